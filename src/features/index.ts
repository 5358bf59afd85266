export * from './catalog-video';
export * from './user-state';
export * from './video-stats';
export * from './feature-registry';
export * from './feature-spec';
export * from './sequence-scores';
