import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenVerifier, TrackSource } from 'livekit-server-sdk';
import { loadConfig } from '../config.ts';
import { createLiveKit, grantFor, sourceName } from './livekit.ts';

describe('LiveKit adapter', () => {
  it('grants by role: admins, publishers, viewers', () => {
    const room = 'r';
    assert.deepEqual(grantFor({ room, role: 'host', screenShare: true }), {
      room, roomJoin: true, roomAdmin: true, canPublish: true, canSubscribe: true, canPublishData: true,
    });
    assert.equal(grantFor({ room, role: 'moderator', screenShare: true }).roomAdmin, true);
    const participant = grantFor({ room, role: 'participant', screenShare: true });
    assert.equal(participant.roomAdmin, false);
    assert.equal(participant.canPublish, true);
    const viewer = grantFor({ room, role: 'viewer', screenShare: true });
    assert.equal(viewer.canPublish, false);
    assert.equal(viewer.canSubscribe, true);
    assert.equal(viewer.canPublishData, true);
    assert.deepEqual(grantFor({ room, role: 'participant', screenShare: false }).canPublishSources, [
      TrackSource.CAMERA,
      TrackSource.MICROPHONE,
    ]);
  });

  it('names track sources', () => {
    assert.equal(sourceName(TrackSource.CAMERA), 'camera');
    assert.equal(sourceName(TrackSource.MICROPHONE), 'microphone');
    assert.equal(sourceName(TrackSource.SCREEN_SHARE), 'screen_share');
    assert.equal(sourceName(99), 'unknown');
  });

  it('without LIVEKIT_URL: records only, tokens still minted with the configured key', async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    const lk = createLiveKit(config);
    assert.equal(lk.configured, false);
    assert.equal(lk.wsUrl, null);
    assert.equal(await lk.createRoom({ name: 'x', maxParticipants: 2, emptyTimeoutSeconds: 1, departureTimeoutSeconds: 1, metadata: '' }), null);
    const token = await lk.mintToken({ room: 'x', identity: 'u1', name: 'U', metadata: '{"a":1}', role: 'viewer', screenShare: true, ttlSeconds: 60 });
    const claims = await new TokenVerifier(config.livekit.apiKey, config.livekit.apiSecret).verify(token);
    assert.equal(claims.sub, 'u1');
    assert.equal(claims.metadata, '{"a":1}');
    assert.equal(claims.video?.canPublish, false);
  });

  it('turns an http LiveKit URL into the ws URL clients use', () => {
    const lk = createLiveKit(loadConfig({ NODE_ENV: 'test', LIVEKIT_URL: 'https://lk.example.com' }));
    assert.equal(lk.wsUrl, 'wss://lk.example.com');
  });
});
