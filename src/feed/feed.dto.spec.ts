import 'reflect-metadata';
import { BadRequestException, ValidationPipe } from '@nestjs/common';
import fc from 'fast-check';
import { FastPathValidationPipe, fastAccepts, VALIDATION_OPTIONS } from '../common/validation';
import { FeedQueryDto } from './feed.dto';

const classValidator = new ValidationPipe(VALIDATION_OPTIONS);
const fastPath = new FastPathValidationPipe(VALIDATION_OPTIONS);
const asQuery = { type: 'query' as const, metatype: FeedQueryDto };

/** The query as class-validator makes it (the api's rules), or null when they refuse it. */
async function byTheRules(query: unknown): Promise<unknown> {
  try {
    return await classValidator.transform(query, asQuery);
  } catch (err) {
    if (err instanceof BadRequestException) return null;
    throw err;
  }
}

const cursorLike = fc.tuple(fc.base64String({ minLength: 4, maxLength: 120 }), fc.base64String({ minLength: 4, maxLength: 24 })).map(([a, b]) => `${a.replace(/[+/=]/g, '_')}.${b.replace(/[+/=]/g, '-')}`);
const odd = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', '0', '00', '020', '51', '-1', '1.5', '1e1', ' 5', '5 ', 'abc', 'a.b', 'x'.repeat(6145)), fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }));
const query = fc
  .record({
    limit: fc.oneof({ arbitrary: fc.integer({ min: -2, max: 60 }).map(String), weight: 3 }, { arbitrary: odd, weight: 1 }, { arbitrary: fc.constant(undefined), weight: 2 }),
    cursor: fc.oneof({ arbitrary: cursorLike, weight: 3 }, { arbitrary: odd, weight: 1 }, { arbitrary: fc.constant(undefined), weight: 2 }),
    exclude: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.constantFrom('v_1,v_2', ''), weight: 1 }),
    explain: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.constantFrom('true', '0'), weight: 1 }),
    other: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.string(), weight: 1 }),
  })
  .map((q) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)));

describe('the feed query fast path (FastValidation on FeedQueryDto)', () => {
  it('takes the queries a client pages with, and makes the DTO class-transformer makes', async () => {
    for (const q of [{}, { limit: '20' }, { limit: '50', cursor: 'WyJfNGNRbm01eGpWLWtKMUFqIiwwLDE3OTYyODg1MzI1Mzdd.3RUfnzTmbmfkbvYZZOn9Rg' }]) {
      expect(fastAccepts(FeedQueryDto, q)).toBe(true);
      const made = await fastPath.transform(q, asQuery);
      expect(made).toBeInstanceOf(FeedQueryDto);
      expect(made).toEqual(await byTheRules(q));
    }
    expect(await fastPath.transform({}, asQuery)).toMatchObject({ limit: 20, exclude: [] });
  });

  it('leaves exclude, explain and anything odd to class-validator', async () => {
    expect(fastAccepts(FeedQueryDto, { exclude: 'v_1' })).toBe(false);
    expect(fastAccepts(FeedQueryDto, { limit: '51' })).toBe(false);
    await expect(fastPath.transform({ limit: '51' }, asQuery)).rejects.toThrow(BadRequestException);
    await expect(fastPath.transform({ limit: '7', exclude: 'v_1, v_2' }, asQuery)).resolves.toMatchObject({ limit: 7, exclude: ['v_1', 'v_2'] });
  });

  it('accepts only what the rules accept, and makes the same DTO', async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        if (!fastAccepts(FeedQueryDto, q)) return;
        const expected = await byTheRules(q);
        expect(expected).not.toBeNull();
        expect(await fastPath.transform(q, asQuery)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
