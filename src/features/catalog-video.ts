/** The slice of a catalog video that features, candidate sources and the event pipeline need. */
export interface CatalogVideo {
  id: string;
  creatorId: string;
  title: string;
  category: string;
  tags: string[];
  durationMs: number;
  /** Epoch ms of upload. */
  createdAt: number;
  /** Content embedding if the catalog supplied one, else the learned one, else null. */
  embedding: Float32Array | null;
  active: boolean;
}
