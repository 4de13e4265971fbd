/**
 * The Ampora language: conditions over a JSON context (dynamic group selectors now, policies and
 * lint rules later). Pure TypeScript, no I/O, no loops or recursion in the language, fail-closed.
 * Grammar, functions and semantics: docs/dsl.md.
 */
export { Expression, evaluate, CompileResult, Evaluation, EvaluateOptions, DEFAULT_DEADLINE_MS, DEFAULT_MAX_STEPS } from './evaluator';
export { DslError, DslErrorKind, DslFailure } from './errors';
export { FUNCTIONS, FunctionSpec } from './functions';
export { MAX_DEPTH } from './parser';
export { MAX_SOURCE_LENGTH, MAX_TOKENS } from './lexer';
export { Clock, CLOCK_CHECK_INTERVAL } from './budget';
export { Pattern, PatternError, MAX_PATTERN_LENGTH, MAX_REPEAT, MAX_PROGRAM } from './regex/pattern';
export { Value, kindOf } from './values';
export { DSL_TABLES } from './dsl.tables';
