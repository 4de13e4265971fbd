/**
 * Shell completion: the scripts call `ampora __complete <words so far>`, which answers candidates
 * from the command tree, so bash and zsh complete exactly what the program accepts.
 */
export interface CommandNode {
  name: string;
  aliases: string[];
  options: string[];
  /** Values of the first argument (resource names for get). */
  argumentValues: string[];
  children: CommandNode[];
}

export function completeWords(root: CommandNode, words: readonly string[]): string[] {
  let node = root;
  let args = 0;
  for (const w of words) {
    if (w.startsWith('-')) continue;
    const child = node.children.find((c) => c.name === w || c.aliases.includes(w));
    if (child) {
      node = child;
      args = 0;
    } else args++;
  }
  const commands = node.children.map((c) => c.name);
  return [...(args === 0 ? [...commands, ...node.argumentValues] : []), ...node.options];
}

export function bashScript(): string {
  return `# ampora completion for bash: source <(ampora completion bash)
_ampora_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$(ampora __complete "\${COMP_WORDS[@]:1:COMP_CWORD-1}" 2>/dev/null)" -- "$cur") )
}
complete -o default -F _ampora_complete ampora
`;
}

export function zshScript(): string {
  return `#compdef ampora
# ampora completion for zsh: source <(ampora completion zsh)  (after compinit)
_ampora() {
  local -a candidates
  candidates=("\${(@f)$(ampora __complete "\${(@)words[2,CURRENT-1]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _ampora ampora
`;
}
