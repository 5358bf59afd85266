import { dot, normalize, Rng } from './random';

export const TOPICS = [
  'comedy',
  'dance',
  'cooking',
  'sports',
  'gaming',
  'music',
  'pets',
  'travel',
  'fashion',
  'tech',
  'education',
  'diy',
] as const;

export interface WorldSize {
  users: number;
  videos: number;
  creators: number;
  /** Logged feed impressions per user in the seeded history. */
  history: number;
  /** Share of videos that get a content embedding (the rest must be learned from co-engagement). */
  embeddingCoverage: number;
  embeddingDim: number;
  seed: number;
  /** The seeded history ends at this time and goes back `historyDays`. */
  now: Date;
  historyDays: number;
}

export interface SeedCreator {
  id: string;
  name: string;
  topic: number;
  style: Float32Array;
}

export interface SeedVideo {
  id: string;
  creatorId: string;
  title: string;
  topic: number;
  tags: string[];
  durationMs: number;
  /** Hidden position in taste space; the simulator's ground truth. */
  latent: Float32Array;
  /** Observable content embedding: a noisy view of `latent`, or null. */
  embedding: Float32Array | null;
  quality: number;
  createdAt: Date;
}

export interface SeedUser {
  id: string;
  displayName: string;
  topicWeights: number[];
  taste: Float32Array;
  follows: string[];
}

export interface World {
  size: WorldSize;
  topicCentroids: Float32Array[];
  creators: SeedCreator[];
  videos: SeedVideo[];
  users: SeedUser[];
}

const pad = (n: number, width = 7) => String(n).padStart(width, '0');
export const userId = (i: number) => `u_${pad(i)}`;
export const videoId = (i: number) => `v_${pad(i)}`;
export const creatorId = (i: number) => `c_${pad(i, 6)}`;

const ADJECTIVES = ['Epic', 'Tiny', 'Quick', 'Wild', 'Calm', 'Bold', 'Lazy', 'Bright', 'Secret', 'Daily'];
const NOUNS: Record<(typeof TOPICS)[number], string[]> = {
  comedy: ['prank', 'sketch', 'standup', 'parody'],
  dance: ['routine', 'challenge', 'freestyle', 'duet'],
  cooking: ['recipe', 'noodles', 'breakfast', 'dessert'],
  sports: ['trickshot', 'workout', 'highlight', 'dunk'],
  gaming: ['speedrun', 'boss fight', 'clutch', 'build'],
  music: ['cover', 'beat', 'riff', 'remix'],
  pets: ['puppy', 'kitten', 'parrot', 'hamster'],
  travel: ['hike', 'city walk', 'beach', 'road trip'],
  fashion: ['outfit', 'haul', 'makeover', 'thrift flip'],
  tech: ['unboxing', 'gadget', 'setup', 'hack'],
  education: ['lesson', 'fact', 'experiment', 'explainer'],
  diy: ['craft', 'repair', 'woodwork', 'decor'],
};

function randomUnit(rng: Rng, dim: number): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = rng.normal();
  return normalize(v);
}

/** Builds the synthetic world: topics, creators, videos and users with hidden tastes. Pure and deterministic. */
export function buildWorld(size: WorldSize): World {
  const rng = new Rng(size.seed);
  const dim = size.embeddingDim;
  const topicCentroids = TOPICS.map(() => randomUnit(rng, dim));

  const creators: SeedCreator[] = [];
  for (let i = 0; i < size.creators; i++) {
    const topic = rng.int(TOPICS.length);
    creators.push({ id: creatorId(i + 1), name: `creator${i + 1}`, topic, style: randomUnit(rng, dim) });
  }

  const nowMs = size.now.getTime();
  const catalogSpanMs = (size.historyDays + 30) * 86_400_000;
  const videos: SeedVideo[] = [];
  for (let i = 0; i < size.videos; i++) {
    const creator = creators[rng.int(creators.length)];
    const topic = rng.next() < 0.85 ? creator.topic : rng.int(TOPICS.length);
    const latent = new Float32Array(dim);
    const centroid = topicCentroids[topic];
    for (let d = 0; d < dim; d++) latent[d] = centroid[d] + 0.35 * creator.style[d] + 0.25 * rng.normal() / Math.sqrt(dim) * 4;
    normalize(latent);
    let embedding: Float32Array | null = null;
    if (rng.next() < size.embeddingCoverage) {
      embedding = new Float32Array(dim);
      for (let d = 0; d < dim; d++) embedding[d] = latent[d] + 0.15 * rng.normal() / Math.sqrt(dim) * 4;
      normalize(embedding);
    }
    const topicName = TOPICS[topic];
    const noun = rng.pick(NOUNS[topicName]);
    videos.push({
      id: videoId(i + 1),
      creatorId: creator.id,
      title: `${rng.pick(ADJECTIVES)} ${noun} #${i + 1}`,
      topic,
      tags: [topicName, noun.replace(' ', '-')],
      durationMs: 5_000 + rng.int(55_000),
      latent,
      embedding,
      quality: Math.min(1, Math.max(0, 0.5 + 0.2 * rng.normal())),
      // Older videos first; the last ~2% are uploaded during the history window ("fresh").
      createdAt: new Date(nowMs - catalogSpanMs * (1 - i / size.videos) - 60_000),
    });
  }

  const users: SeedUser[] = [];
  for (let i = 0; i < size.users; i++) {
    const favourites = new Set<number>();
    const nFav = 1 + rng.int(3);
    while (favourites.size < nFav) favourites.add(rng.int(TOPICS.length));
    const topicWeights = TOPICS.map((_, t) => (favourites.has(t) ? 1 + rng.next() : 0.05 * rng.next()));
    const total = topicWeights.reduce((a, b) => a + b, 0);
    const weights = topicWeights.map((w) => w / total);
    const taste = new Float32Array(dim);
    weights.forEach((w, t) => {
      for (let d = 0; d < dim; d++) taste[d] += w * topicCentroids[t][d];
    });
    normalize(taste);
    const favCreators = creators.filter((c) => favourites.has(c.topic));
    const follows = new Set<string>();
    for (let k = 0; k < 3 && favCreators.length > 0; k++) follows.add(rng.pick(favCreators).id);
    users.push({
      id: userId(i + 1),
      displayName: `user${i + 1}`,
      topicWeights: weights.map((w) => Math.round(w * 1e4) / 1e4),
      taste,
      follows: [...follows],
    });
  }
  return { size, topicCentroids, creators, videos, users };
}

export interface Engagement {
  watchMs: number;
  complete: boolean;
  like: boolean;
  share: boolean;
  skip: boolean;
}

/** How a simulated user reacts to a video: the hidden ground truth the recommender must learn. */
export function simulateEngagement(user: SeedUser, video: SeedVideo, rng: Rng): Engagement {
  const affinity = dot(user.taste, video.latent);
  const interest = 1 / (1 + Math.exp(-(6 * affinity + 2 * (video.quality - 0.5) - 1.5)));
  const skip = rng.next() > interest * 0.9 + 0.05;
  const watchFraction = skip ? 0.05 + 0.2 * rng.next() : Math.min(1, 0.4 + interest * 0.7 * rng.next() + 0.3 * interest);
  const complete = !skip && watchFraction >= 0.95;
  const like = !skip && rng.next() < interest * 0.6;
  const share = like && rng.next() < 0.2;
  return { watchMs: Math.round(video.durationMs * watchFraction), complete, like, share, skip };
}
