// Command-line options of the bench scripts: `--name value` pairs.

/** The value after `--name` in `argv`, or `def` when the option is absent. */
export function option(argv, name, def) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
}
