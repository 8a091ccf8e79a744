import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, SseParser } from './sse.ts';

describe('SseParser', () => {
  it('parses events split across chunks at any point, with ids and names', () => {
    const text =
      'retry: 3000\n: connected\n\nid: 7\nevent: participant.joined\ndata: {"a":1}\n\n: heartbeat\n\nid: 8\ndata: x\ndata: y\n\n';
    for (let size = 1; size <= text.length; size++) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.feed(text.slice(i, i + size)));
      assert.deepEqual(
        got,
        [
          { event: 'participant.joined', data: '{"a":1}', id: '7' },
          { event: 'message', data: 'x\ny', id: '8' },
        ],
        `chunk size ${size}`,
      );
      assert.equal(p.lastEventId, '8');
      assert.equal(p.retryMs, 3000);
    }
  });

  it('accepts CRLF and CR line ends, and a CRLF split between chunks', () => {
    const p = new SseParser();
    assert.deepEqual(p.feed('data: a\r'), []);
    assert.deepEqual(p.feed('\n\r\n'), [{ event: 'message', data: 'a', id: null }]);
    // A final lone CR may be half of a CRLF: it counts once the next character shows it is not.
    assert.deepEqual(p.feed('data: b\r\r'), []);
    assert.deepEqual(p.feed('data: c\n\n'), [
      { event: 'message', data: 'b', id: null },
      { event: 'message', data: 'c', id: null },
    ]);
  });

  it('ignores comments, unknown fields and blocks without data; keeps one leading space only', () => {
    const p = new SseParser();
    assert.deepEqual(p.feed(': hi\nfoo: bar\nevent: x\n\ndata:  two\n\n'), [{ event: 'message', data: ' two', id: null }]);
  });

  it('does not dispatch an event until its blank line arrives', () => {
    const p = new SseParser();
    assert.deepEqual(p.feed('id: 1\ndata: half'), []);
    assert.deepEqual(p.feed('\n'), []);
    assert.deepEqual(p.feed('\n'), [{ event: 'message', data: 'half', id: '1' }]);
  });
});

describe('backoffMs', () => {
  it('doubles from the base, stays within half..full of the step, and caps', () => {
    assert.equal(backoffMs(0, 1000, 30_000, () => 0), 500);
    assert.equal(backoffMs(0, 1000, 30_000, () => 1), 1000);
    assert.equal(backoffMs(3, 1000, 30_000, () => 1), 8000);
    assert.equal(backoffMs(20, 1000, 30_000, () => 1), 30_000);
    assert.equal(backoffMs(20, 1000, 30_000, () => 0), 15_000);
  });
});
