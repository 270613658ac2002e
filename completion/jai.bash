# bash completion for jai(1).
# Install as /usr/share/bash-completion/completions/jai (or source it from ~/.bashrc).
#
# jai itself does the work: `jai --complete WORD...` gets the words after `jai` up to the one under the cursor and
# prints either the candidates (one per line, already ending in a space or `/`, so they are used verbatim) or
# `_command_offset N` when the cursor is inside the command jai will run, N counting `jai` as word 0.

_jai_complete() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        # Keep `--opt=value` and `a:b` in one word, as jai sees them.
        _init_completion -n =: || return
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
    fi

    local out
    out=$(jai --complete "${words[@]:1:cword}" 2>/dev/null) || return

    if [[ $out == "_command_offset "* ]]; then
        local offset=${out#_command_offset }
        if declare -F _command_offset >/dev/null; then
            # _command_offset counts in COMP_WORDS: give it the words jai counted.
            COMP_WORDS=("${words[@]}")
            COMP_CWORD=$cword
            _command_offset "$offset"
        elif ((offset == cword)); then
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        else
            compopt -o default
            COMPREPLY=()
        fi
        return
    fi

    [[ -n $out ]] || return
    mapfile -t COMPREPLY <<<"$out"
    compopt -o nospace
    compopt -o nosort 2>/dev/null # bash >= 4.4

    # Readline replaces only the part of the word after the last word-break character (`=` and `:` by default),
    # while jai echoed the whole word: drop what readline keeps.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local keep=${cur%"${cur##*:}"}
        COMPREPLY=("${COMPREPLY[@]#"$keep"}")
    elif [[ $cur == -*=* && $COMP_WORDBREAKS == *=* ]]; then
        local keep=${cur%%=*}=
        COMPREPLY=("${COMPREPLY[@]#"$keep"}")
    fi
}

complete -F _jai_complete jai
