import { Test } from '@nestjs/testing';
import { candidateContext } from '../../../test/factories/candidate-source.factory';
import { NEAREST_VIDEOS, NearestVideos } from '../ann/nearest-videos';
import { AnnSource } from './ann.source';
import { SourceUnavailableError } from './candidate-source';

describe(AnnSource.name, () => {
  const index = (answer: Int32Array | null) => ({ nearest: jest.fn(() => answer) });
  const withTaste = (limit = 2) => candidateContext({ user: { embedding: [1, 0, 0, 0] }, userHasEmbedding: true, limit });

  it("returns the index's nearest neighbours of the user's embedding", () => {
    const ann = index(Int32Array.of(4, 2));
    expect(Array.from(new AnnSource(ann).fetch(withTaste()) as Int32Array)).toEqual([4, 2]);
    expect(ann.nearest).toHaveBeenCalledWith([1, 0, 0, 0], 2);
  });

  it('finds nothing for a user without taste, and reports an index that is not built', () => {
    expect(new AnnSource(index(Int32Array.of(1))).fetch(candidateContext())).toHaveLength(0);
    expect(() => new AnnSource(index(null)).fetch(withTaste())).toThrow(SourceUnavailableError);
  });

  it('searches whatever is bound to NEAREST_VIDEOS: an asynchronous engine answering video ids', async () => {
    const asked: { embedding: number[]; k: number }[] = [];
    let built = true;
    const engine: NearestVideos = {
      nearest: async (embedding, k) => (asked.push({ embedding, k }), built ? ['v9', 'v3'] : null),
    };
    const moduleRef = await Test.createTestingModule({ providers: [AnnSource, { provide: NEAREST_VIDEOS, useValue: engine }] }).compile();
    const source = moduleRef.get(AnnSource);
    await expect(source.fetch(withTaste(7))).resolves.toEqual(['v9', 'v3']);
    expect(asked).toEqual([{ embedding: [1, 0, 0, 0], k: 7 }]);
    built = false;
    await expect(source.fetch(withTaste())).rejects.toMatchObject({ reason: 'ann_unavailable' });
  });
});
