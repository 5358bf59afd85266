export const REDIS = Symbol('REDIS');
export type { Redis as RedisClient, Cluster as RedisClusterClient } from 'ioredis';
