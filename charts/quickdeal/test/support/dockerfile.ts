/**
 * A Dockerfile interpreter for machines without a Docker engine: it parses the Dockerfile and
 * carries out a target's stages on the host, each stage's filesystem a directory. COPY takes
 * files from the build context through .dockerignore (or from an earlier stage), WORKDIR and ENV
 * apply, RUN runs with `sh -c` in the stage's working directory. Base images are not pulled: an
 * image's filesystem starts empty and its tools (node, npm) are the host's. `RUN --mount=type=cache`
 * is honoured for npm's cache by pointing npm at the host's own cache.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, posix, relative } from 'node:path';

export interface Instruction {
  keyword: string; // upper case: FROM, COPY, RUN, ...
  args: string; // the rest of the line, continuations joined
  line: number;
}

export interface Stage {
  index: number;
  name: string | undefined;
  base: string; // an image or an earlier stage's name
  instructions: Instruction[];
}

export interface Dockerfile {
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, '')} ${next.trim()}`;
    }
    const match = /^\s*(\w+)\s*(.*)$/.exec(line);
    if (!match?.[1]) throw new Error(`Dockerfile line ${start + 1}: cannot parse "${line}"`);
    instructions.push({ keyword: match[1].toUpperCase(), args: (match[2] ?? '').trim(), line: start + 1 });
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [base, as, name] = instruction.args.split(/\s+/);
      if (!base) throw new Error(`Dockerfile line ${instruction.line}: FROM without an image`);
      stages.push({ index: stages.length, name: as?.toUpperCase() === 'AS' ? name : undefined, base, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== 'ARG')
        throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      const [key, value] = splitAssignment(instruction.args);
      globalArgs[key] = value ?? '';
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

function splitAssignment(text: string): [string, string | undefined] {
  const index = text.indexOf('=');
  return index < 0 ? [text.trim(), undefined] : [text.slice(0, index).trim(), unquote(text.slice(index + 1).trim())];
}

function unquote(text: string): string {
  return /^(["']).*\1$/.test(text) ? text.slice(1, -1) : text;
}

/** `--from=build --chown=1000 a b c/` → flags and the words after them. */
export function splitFlags(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  const words = args.split(/\s+/).filter(Boolean);
  while (words[0]?.startsWith('--')) {
    const [key, value] = splitAssignment((words.shift() ?? '').slice(2));
    flags[key] = value ?? 'true';
  }
  return { flags, words };
}

export function stageByName(file: Dockerfile, name: string): Stage | undefined {
  return file.stages.find((stage) => stage.name === name) ?? (/^\d+$/.test(name) ? file.stages[Number(name)] : undefined);
}

/** An exec-form instruction's arguments (ENTRYPOINT ["node", "main.js"]). */
export function execForm(instruction: Instruction): string[] {
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} is not in exec form`);
  }
  return parsed as string[];
}

/** The last value an instruction of this kind takes for the stage, following its bases. */
export function effective(file: Dockerfile, stage: Stage, keyword: string): Instruction | undefined {
  const own = stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
  if (own) return own;
  const base = stageByName(file, stage.base);
  return base ? effective(file, base, keyword) : undefined;
}

/** .dockerignore: later patterns win, `!` re-includes, a pattern also covers everything below what it matches. */
export function dockerignore(contextDir: string): (path: string) => boolean {
  const file = join(contextDir, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#'))
    : [];
  const rules = patterns.map((pattern) => {
    const negated = pattern.startsWith('!');
    const glob = posix.normalize((negated ? pattern.slice(1) : pattern).replace(/^\/+/, ''));
    const source = glob
      .split('/')
      .map((part) =>
        part === '**'
          ? '.*'
          : part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/\.\*\//g, '(.*/)?');
    return { negated, regex: new RegExp(`^${source}$`) };
  });
  return (path) => {
    const parts = path.split('/');
    let ignored = false;
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.regex.test(parts.slice(0, n).join('/'))) {
          ignored = !rule.negated;
          break;
        }
      }
    }
    return ignored;
  };
}

export interface BuildOptions {
  contextDir: string;
  outDir: string;
  /** Extra environment for RUN (e.g. npm_config_prefer_offline). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface BuiltStage {
  stage: Stage;
  root: string; // the stage's filesystem
  workdir: string; // absolute inside the image
  env: Record<string, string>;
  user: string | undefined;
}

/** Builds targets and the stages they need, each stage once; a target's result is its filesystem root and settings. */
export function dockerBuilder(file: Dockerfile, options: BuildOptions): { build: (target: string) => Promise<BuiltStage> } {
  const built = new Map<number, Promise<BuiltStage>>();
  const ignored = dockerignore(options.contextDir);
  const log = options.log ?? (() => undefined);

  const build = (stage: Stage): Promise<BuiltStage> => {
    let done = built.get(stage.index);
    if (!done) {
      done = buildStage(stage);
      built.set(stage.index, done);
    }
    return done;
  };

  const buildStage = async (stage: Stage): Promise<BuiltStage> => {
    const args: Record<string, string> = { ...file.globalArgs };
    const baseName = expand(stage.base, args);
    const parent = stageByName(file, baseName);
    const from = parent ? await build(parent) : undefined;
    const state: BuiltStage = {
      stage,
      root: from ? from.root : join(options.outDir, `stage-${stage.index}`),
      workdir: from?.workdir ?? '/',
      env: { ...(from?.env ?? {}) },
      user: from?.user,
    };
    // A stage shares its base's directory until it changes a file.
    let own = !from;
    if (own) mkdirSync(state.root, { recursive: true });
    const mutable = () => {
      if (own) return;
      const root = join(options.outDir, `stage-${stage.index}`);
      cpSync(state.root, root, { recursive: true, verbatimSymlinks: true });
      state.root = root;
      own = true;
    };
    const inImage = (path: string) => join(state.root, isAbsolute(path) ? path : posix.join(state.workdir, path));

    for (const instruction of stage.instructions) {
      const text = expand(instruction.args, { ...args, ...state.env });
      switch (instruction.keyword) {
        case 'ARG': {
          const [key, value] = splitAssignment(instruction.args);
          args[key] = value ?? file.globalArgs[key] ?? '';
          break;
        }
        case 'ENV': {
          const [key, value] = splitAssignment(text);
          state.env[key] = value ?? '';
          break;
        }
        case 'WORKDIR':
          mutable();
          state.workdir = posix.resolve(state.workdir, text);
          mkdirSync(inImage(state.workdir), { recursive: true });
          break;
        case 'USER':
          state.user = text;
          break;
        case 'COPY': {
          mutable();
          const { flags, words } = splitFlags(text);
          const dest = words.pop();
          if (!dest || words.length === 0) throw new Error(`Dockerfile line ${instruction.line}: COPY needs a source and a destination`);
          const source = flags.from ? await build(mustStage(file, flags.from, instruction)) : undefined;
          const intoDirectory = dest.endsWith('/') || words.length > 1;
          for (const src of words) {
            const from = source ? join(source.root, posix.resolve('/', src)) : join(options.contextDir, src);
            if (!existsSync(from))
              throw new Error(
                `Dockerfile line ${instruction.line}: COPY ${src}: no such file${source ? ` in stage ${flags.from}` : ' in the build context'}`,
              );
            if (!source && ignored(src)) throw new Error(`Dockerfile line ${instruction.line}: COPY ${src}: excluded by .dockerignore`);
            const target = inImage(dest);
            if (statSync(from).isDirectory()) {
              copyTree(from, target, source ? () => false : (path) => ignored(relative(options.contextDir, path)));
            } else {
              const to = intoDirectory ? join(target, basename(from)) : target;
              mkdirSync(dirname(to), { recursive: true });
              cpSync(from, to);
            }
          }
          break;
        }
        case 'RUN': {
          mutable();
          const { flags, words } = splitFlags(text);
          const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: homedir(), ...options.env, ...state.env };
          if (flags.mount?.includes('type=cache') && flags.mount.includes('.npm')) env.npm_config_cache = join(homedir(), '.npm');
          log(`RUN ${words.join(' ')}`);
          await runShell(words.join(' '), inImage(state.workdir), env, instruction);
          break;
        }
        case 'ENTRYPOINT':
        case 'CMD':
        case 'EXPOSE':
        case 'LABEL':
        case 'HEALTHCHECK':
        case 'STOPSIGNAL':
        case 'SHELL':
          break;
        default:
          throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} is not supported by this interpreter`);
      }
    }
    return state;
  };

  return { build: (target) => build(mustStage(file, target, undefined)) };
}

function mustStage(file: Dockerfile, name: string, instruction: Instruction | undefined): Stage {
  const stage = stageByName(file, name);
  if (!stage) throw new Error(`${instruction ? `Dockerfile line ${instruction.line}: ` : ''}no stage named ${name}`);
  return stage;
}

function expand(text: string, values: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => values[braced ?? bare ?? ''] ?? whole,
  );
}

function copyTree(from: string, to: string, skip: (path: string) => boolean): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    if (skip(source)) continue;
    const target = join(to, entry);
    if (lstatSync(source).isDirectory()) copyTree(source, target, skip);
    else cpSync(source, target, { verbatimSymlinks: true });
  }
}

function runShell(command: string, cwd: string, env: Record<string, string>, instruction: Instruction): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`Dockerfile line ${instruction.line}: RUN ${command} exited with ${code}:\n${output}`)),
    );
  });
}
