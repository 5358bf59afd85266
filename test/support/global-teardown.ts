import { clearTestRedis } from './redis';

/** Integration/e2e global teardown: removes the Redis keys this run created. */
export default async function globalTeardown(): Promise<void> {
  await clearTestRedis();
}
