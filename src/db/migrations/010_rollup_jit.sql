-- The rollup statements' cost estimates (set-returning functions over multiranges,
-- unnested arrays) are far above what they do, enough to trigger JIT compilation,
-- which then costs hundreds of milliseconds on a session close that takes a few.
-- Plain interpretation is right for them.
ALTER FUNCTION app.usage_apply(app.usage_change[]) SET jit = off;
ALTER FUNCTION app.quality_days_apply() SET jit = off;
