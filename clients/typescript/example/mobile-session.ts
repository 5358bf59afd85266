/// <reference types="node" />
// What a mobile app does with the client: sign in (here the demo's token endpoint), read a
// page of the feed, report what the user did, read the next page.
//   npm run demo                               (in another terminal)
//   node -r ./test/support/ts-register.js clients/typescript/example/mobile-session.ts http://localhost:3000
import { ClientEvent, createReelrankClient, FeedPage, newEventId } from '../src';

async function main(baseUrl: string): Promise<void> {
  let token: string | undefined;
  const api = createReelrankClient({ baseUrl, token: () => token });

  const signIn = await api.POST('/v1/demo/token', { body: { userId: 'u_0000001' } });
  if (!signIn.data) throw new Error(`sign-in failed: ${signIn.response.status}`);
  token = signIn.data.token;

  const first = await api.GET('/v1/feed', { params: { query: { limit: 5 } } });
  if (!first.data) throw new Error(`feed failed: ${first.response.status}`);
  print('first page', first.data);

  // The user watched the first video to the end and liked it, and skipped the second.
  const [watched, skipped] = first.data.items;
  const events: ClientEvent[] = [
    { eventId: newEventId(), type: 'view', videoId: watched.videoId, watchMs: watched.durationMs, requestId: first.data.requestId },
    { eventId: newEventId(), type: 'complete', videoId: watched.videoId, requestId: first.data.requestId },
    { eventId: newEventId(), type: 'like', videoId: watched.videoId, requestId: first.data.requestId },
    { eventId: newEventId(), type: 'skip', videoId: skipped.videoId, watchMs: 900, requestId: first.data.requestId },
  ];
  const sent = await api.POST('/v1/events', { body: { events } });
  console.log(`events: ${sent.data?.accepted} accepted, ${sent.data?.duplicates} duplicates`);

  const next = await api.GET('/v1/feed', { params: { query: { limit: 5, cursor: first.data.nextCursor } } });
  if (!next.data) throw new Error(`feed failed: ${next.response.status}`);
  print('next page', next.data);
}

function print(title: string, page: FeedPage): void {
  console.log(`${title} (${page.requestId}):`);
  for (const item of page.items) console.log(`  ${item.videoId}  ${item.category.padEnd(10)} ${item.title}  [${item.source}]`);
}

main(process.argv[2] ?? 'http://localhost:3000').catch((err) => {
  console.error(err);
  process.exit(1);
});
