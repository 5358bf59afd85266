import { TOPICS } from '../../seed/world';
import { UserEntity } from '../database/entities';
import { DemoUserResponse } from './demo.dto';

/** A seeded user's favourite topics: the hidden taste the page shows so people can judge the feed. */
export function favouriteTopics(topicWeights: number[] | undefined): string[] {
  if (!topicWeights) return [];
  return topicWeights
    .map((w, i) => ({ topic: TOPICS[i] as string, w }))
    .filter((t) => t.topic !== undefined && t.w >= 0.15)
    .sort((a, b) => b.w - a.w)
    .map((t) => t.topic);
}

export function toDemoUserResponse(user: UserEntity): DemoUserResponse {
  return {
    id: user.id,
    displayName: user.displayName,
    simulated: user.simTraits !== null,
    tastes: favouriteTopics(user.simTraits?.topicWeights),
  };
}
