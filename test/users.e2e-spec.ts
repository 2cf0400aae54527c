import { createTestApp, expectProblem, registerUser, snapshotTables, TestApp, TEST_PASSWORD } from './support/test-app';

describe('Users', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('registers a user with a trimmed, lower-case email and answers 201 with Location', async () => {
    const response = await t.http().post('/users').send({ email: '  Carol@Example.COM ', password: TEST_PASSWORD });
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe(`/users/${response.body.id}`);
    expect(response.body).toEqual({
      id: expect.any(Number),
      email: 'carol@example.com',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
  });
});
