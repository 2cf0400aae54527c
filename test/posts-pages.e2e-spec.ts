import { createTestApp, expectProblem, registerUser, TestApp, TestUser } from './support/test-app';

/** The `rel="next"` URL of a Link header, or undefined. */
function nextLink(header: string | undefined): string | undefined {
  return header ? /<([^>]+)>;\s*rel="next"/.exec(header)?.[1] : undefined;
}

describe('Paging GET /posts with the Link header (keyset cursor)', () => {
  let t: TestApp;
  let author: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    t = await createTestApp();
    author = await registerUser(t);
    reader = await registerUser(t);
    // 24 published posts, 2 drafts (9 and 18), and several posts sharing one created_at, so the id breaks ties.
    await t.db.query(
      `INSERT INTO posts (title, content, published, owner_id, created_at)
       SELECT 'Post ' || n, 'Body', n % 9 <> 0, $1,
              timestamptz '2026-01-01' + (n / 4) * interval '1 minute' + (n % 2) * interval '1 microsecond'
       FROM generate_series(1, 26) AS n`,
      [author.id],
    );
  });

  afterAll(async () => {
    await t.close();
  });

  async function walk(user: TestUser, firstUrl: string): Promise<{ ids: number[]; pages: number }> {
    const ids: number[] = [];
    let url: string | undefined = firstUrl;
    let pages = 0;
    while (url && pages < 20) {
      const response = await t.http().get(url).set(user.auth).expect(200);
      ids.push(...response.body.map((post: { id: number }) => post.id));
      url = nextLink(response.headers.link);
      pages += 1;
    }
    return { ids, pages };
  }

  it('walks every visible post once, newest first, in the same order as skip pages', async () => {
    const byCursor = await walk(reader, '/posts?limit=5');
    const all = await t.http().get('/posts?limit=100').set(reader.auth).expect(200);
    expect(byCursor.ids).toEqual(all.body.map((post: { id: number }) => post.id));
    expect(new Set(byCursor.ids).size).toBe(byCursor.ids.length);
    expect(byCursor.ids).toHaveLength(24);
    expect(byCursor.pages).toBe(5);
  });

  it('includes the reader’s own drafts when the author pages', async () => {
    expect((await walk(author, '/posts?limit=4')).ids).toHaveLength(26);
  });

  it('gives a Link with rel="next" using cursor= and the same limit, and none on the last page', async () => {
    const first = await t.http().get('/posts?limit=20').set(reader.auth).expect(200);
    const link = nextLink(first.headers.link);
    expect(link).toMatch(/^\/posts\?limit=20&cursor=[A-Za-z0-9_-]+$/);
    const last = await t
      .http()
      .get(link as string)
      .set(reader.auth)
      .expect(200);
    expect(last.body).toHaveLength(4);
    expect(last.headers.link).toBeUndefined();
  });

  it('keeps the search in the next link', async () => {
    const first = await t.http().get('/posts?limit=2&search=post%202').set(reader.auth).expect(200);
    expect(nextLink(first.headers.link)).toMatch(/[?&]search=post(\+|%20)2(&|$)/);
    const ids = (await walk(reader, '/posts?limit=2&search=post%202')).ids;
    expect(ids.length).toBeGreaterThan(2);
    for (const id of ids) {
      const post = await t.http().get(`/posts/${id}`).set(reader.auth).expect(200);
      expect(post.body.title.toLowerCase()).toContain('post 2');
    }
  });

  it.each(['not-a-cursor', Buffer.from('12.0').toString('base64url'), Buffer.from("1.1'; --").toString('base64url')])(
    'answers 422 naming cursor for %p',
    async (cursor) => {
      const response = await t
        .http()
        .get(`/posts?cursor=${encodeURIComponent(cursor)}`)
        .set(reader.auth);
      expectProblem(response, 422);
      expect(response.body.errors).toEqual([{ field: 'cursor', message: expect.any(String) }]);
    },
  );

  it('answers 422 when cursor and skip are combined', async () => {
    const first = await t.http().get('/posts?limit=5').set(reader.auth).expect(200);
    const cursor = new URLSearchParams((nextLink(first.headers.link) as string).split('?')[1]).get('cursor');
    expectProblem(await t.http().get(`/posts?skip=5&cursor=${cursor}`).set(reader.auth), 422);
  });
});
