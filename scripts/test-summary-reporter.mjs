// A node:test reporter that writes one JSON line per finished test or suite, for
// scripts/run-tests.mjs to close the run with an honest summary. Node's own closing
// lines do not count a skipped suite (its tests never run, so they are not reported),
// which made a run with ten suites skipped for want of a service end in "skipped 0".
export default async function* summaryReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    yield `${JSON.stringify({
      outcome: event.type === 'test:pass' ? 'pass' : 'fail',
      name: d.name,
      file: d.file ?? null,
      nesting: d.nesting,
      suite: d.details?.type === 'suite',
      skip: d.skip === undefined || d.skip === false ? null : d.skip === true ? '' : String(d.skip),
      todo: d.todo !== undefined && d.todo !== false,
    })}\n`;
  }
}
