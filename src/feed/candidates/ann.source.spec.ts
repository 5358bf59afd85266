import { candidateContext } from '../../../test/factories/candidate-source.factory';
import { AnnIndexService } from '../ann/ann-index.service';
import { AnnSource } from './ann.source';
import { SourceUnavailableError } from './candidate-source';

describe(AnnSource.name, () => {
  const index = (answer: Int32Array | null) => ({ searchOrdinals: jest.fn(() => answer) });

  it("returns the index's nearest neighbours of the user's embedding", () => {
    const ann = index(Int32Array.of(4, 2));
    const source = new AnnSource(ann as unknown as AnnIndexService);
    const user = { embedding: [1, 0, 0, 0] };
    expect(Array.from(source.fetch(candidateContext({ user, userHasEmbedding: true, limit: 2 })))).toEqual([4, 2]);
    expect(ann.searchOrdinals).toHaveBeenCalledWith([1, 0, 0, 0], 2);
  });

  it('finds nothing for a user without taste, and reports an index that is not built', () => {
    expect(new AnnSource(index(Int32Array.of(1)) as unknown as AnnIndexService).fetch(candidateContext())).toHaveLength(0);
    const unbuilt = new AnnSource(index(null) as unknown as AnnIndexService);
    expect(() => unbuilt.fetch(candidateContext({ userHasEmbedding: true }))).toThrow(SourceUnavailableError);
  });
});
