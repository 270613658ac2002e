// The files jai writes into the configuration directory when they are missing. DEFAULTS is also what
// `jai --print-defaults` prints, byte for byte. The active lines of DEFAULTS are those of jai-behaviour.md §5; the
// wording of the comments is ours.

const MASKS = [
  '.jai',
  '.ssh',
  '.gnupg',
  '.local/share/keyrings',
  '.netrc',
  '.git-credentials',
  '.aws',
  '.azure',
  '.config/gcloud',
  '.config/gh',
  '.config/Keybase',
  '.config/kube',
  '.docker',
  '.password-store',
  '.mozilla',
  '.config/BraveSoftware',
  '.config/chromium',
  '.config/google-chrome',
  '.config/mozilla',
  '.bash_history',
  '.zsh_history',
];

const UNSET_PATTERNS = [
  '*_ACCESS_KEY',
  '*_APIKEY',
  '*_API_KEY',
  '*_AUTH',
  '*_AUTH_TOKEN',
  '*_CONNECTION_STRING',
  '*_CREDENTIAL',
  '*_CREDENTIALS',
  '*_PASSWD',
  '*_PASSWORD',
  '*_PID',
  '*_PRIVATE_KEY',
  '*_PWD',
  '*_SECRET',
  '*_SECRET_KEY',
  '*_SOCK',
  '*_SOCKET',
  '*_SOCKET_PATH',
  '*_TOKEN',
];

const UNSET_NAMES = [
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'BB_AUTH_STRING',
  'DATABASE_URL',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'KUBECONFIG',
  'MAIL',
  'MONGODB_URI',
  'MONGO_URI',
  'REDIS_URL',
  'SENTRY_DSN',
  'SLACK_WEBHOOK_URL',
];

export const DEFAULTS = `# jai built-in defaults
#
# jai writes this file as .defaults in its configuration directory ($JAI_CONFIG_DIR, or ~/.jai) whenever it is
# missing; \`jai --print-defaults\` shows the original text. Configuration files pull it in with the line
#
#     conf .defaults
#
# (default.conf does so). Lines are applied in order and a later line overrides an earlier one, so the usual way to
# change a setting is to add lines after \`conf .defaults\` in default.conf or in a NAME.conf file rather than to edit
# this file. Edits here are kept, though: jai only recreates the file when it has been deleted.
#
# Syntax: one option per line, as on the command line but without the dashes (\`mask .ssh\` is \`--mask .ssh\`);
# \`name=value\` works too. A line starting with # is a comment; # anywhere else is part of the value.
# \${NAME} in directory, file, mask and setenv values is replaced by the environment variable NAME.


# ---- Startup script and launch command ----
#
# Every program is started by bash, which first sources a startup script made of the files named by \`script\`
# lines (the \`?\` form ignores a file that does not exist). .jairc in the configuration directory holds examples.
# The command line below runs the script, then the program itself with its arguments ("$0" "$@").
# An empty command (\`command=\`) executes the program directly, without bash and without the script.

script? .jairc
command source "\${JAI_SCRIPT:-/dev/null}"; "$0" "$@"


# ---- Storage, mode and jail name (examples, disabled) ----
#
# Jail state (overlay changes, private homes, .jail files) lives in the configuration directory unless \`storage\`
# names another place. Overlays do not work on NFS: if your home is on NFS, pick a local disk, for instance:
#
# storage /some/local/directory/\${JAI_USER}/.jai
#
# Modes: casual runs as you with a copy-on-write view of your home; bare runs as you with an empty private home;
# strict runs as the unprivileged jai user with an empty private home. Without a mode line the mode comes from the
# jail's .jail file: casual for the jail named default, strict for a jail created under any other name.
#
# mode casual
# mode bare
# mode strict
#
# The jail name selects which private home and overlay a program gets (default: "default"):
#
# jail default


# ---- Masked files ----
#
# In casual mode these paths (relative to your home) are hidden from jailed programs: they are deleted in the
# overlay when it is first created. Masks do not touch an overlay that already exists (run \`jai -u\` to unmount it
# so the next run rebuilds it), and strict and bare jails start from an empty home anyway.
# \`unmask PATH\` in a later file cancels one of these.

${MASKS.map((m) => `mask ${m}`).join('\n')}


# ---- Environment variables removed ----
#
# Variables whose names match these are not passed to jailed programs. \`*\` matches any sequence of characters.
# \`setenv NAME\` in a later file lets one through again (\`setenv *_TOKEN\` cancels the whole pattern).

${[...UNSET_PATTERNS, ...UNSET_NAMES].map((v) => `unsetenv ${v}`).join('\n')}


# ---- Environment variables set ----
#
# \`setenv NAME=VALUE\` sets a variable in the jail; \${NAME} in VALUE is substituted when this file is read.
# Variables available then include JAI_USER (you), JAI_CONFIG_DIR, HOME and PWD; JAI_JAIL and JAI_MODE are set for
# the jailed program but not while configuration files are read. In strict mode the program runs as the jai user,
# so USER and LOGNAME are set to your name here to keep tools that read them working.

setenv USER=\${JAI_USER}
setenv LOGNAME=\${JAI_USER}
`;

export const DEFAULT_CONF = `# Configuration used when no NAME.conf matches the command (see jai(1)).
# It starts from jai's built-in defaults; add your own lines after this one to override them.

conf .defaults
`;

export const DEFAULT_JAIL = `# Settings of the jail named "default". Lines here override the .conf files, and the command line overrides
# both. This jail starts in casual mode (your uid, copy-on-write home).

mode casual
`;

/** Content of a new NAME.jail for a jail other than "default": it records the mode in effect when it was created. */
export function newJailFile(mode: string): string {
  return `mode ${mode}\n`;
}

export const DEFAULT_JAIRC = `# Sourced by bash before every jailed program starts (see the \`script\` lines in .defaults).
# Everything here runs inside the jail. Define functions or variables for the programs you run; for example:
#
# Show which jail a shell is in:
#   PS1="[jai:$JAI_JAIL] $PS1"
#
# Prefer a tool installed under your home:
#   PATH="$HOME/.local/bin:$PATH"
#
# Give a command default options:
#   ll() { ls -l "$@"; }
#
# Tell a program it is sandboxed:
#   export IN_JAI=1
`;
