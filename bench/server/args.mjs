// Command-line options of the bench scripts: `--name value` pairs.

/** The value after `--name` in `argv`, or `def` when the option is absent. */
export function option(argv, name, def) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
}

/** The value after `--name`, which must be one of `values` (the first is the default); throws naming the allowed values. */
export function choice(argv, name, values) {
  const value = option(argv, name, values[0]);
  if (!values.includes(value)) throw new Error(`--${name} must be ${values.join(" or ")}, not ${value}`);
  return value;
}
