// The typed client (clients/ts) against the real app over real HTTP: the bearer
// middleware, unwrap() and ApiError as a frontend sees them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, createAuraLinkClient, unwrap } from '../clients/ts/src/index.ts';
import { startTestApp, type TestApp } from './helpers/app.ts';

describe('typed client', () => {
  let t: TestApp;
  let baseUrl: string;
  before(async () => {
    t = await startTestApp();
    baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => t.close());

  it('sends the token from getToken and returns the typed data', async () => {
    const token = await t.token('alice');
    const api = createAuraLinkClient({ baseUrl, getToken: async () => token });
    const me = unwrap(await api.GET('/api/v1/users/me'));
    assert.equal(me.user_id, t.userId('alice'));
    assert.equal(me.aura_id, '@alice.aura');
    const created = unwrap(
      await api.POST('/api/v1/rooms', { body: { name: 'Client room', call_type: 'group', privacy: 'private' } }),
    );
    const { rooms } = unwrap(await api.GET('/api/v1/rooms', { params: { query: { limit: 5 } } }));
    assert.ok(rooms.some((r) => r.room_id === created.room_id));
  });

  it('throws ApiError with the contract code and the request id', async () => {
    const api = createAuraLinkClient({ baseUrl, getToken: () => null });
    await assert.rejects(
      async () => unwrap(await api.GET('/api/v1/users/me', { headers: { 'x-request-id': 'client-test-1' } })),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.status, 401);
        assert.equal(err.code, 'UNAUTHORIZED');
        assert.equal(err.requestId, 'client-test-1');
        assert.ok(err.message.length > 0);
        return true;
      },
    );
    const authed = createAuraLinkClient({ baseUrl, getToken: () => t.token('alice') });
    const missing = await authed.GET('/api/v1/rooms/{room_id}', {
      params: { path: { room_id: '00000000-0000-4000-8000-000000000000' } },
    });
    assert.throws(() => unwrap(missing), (err: unknown) => err instanceof ApiError && err.status === 404 && err.code === 'NOT_FOUND');
  });
});
