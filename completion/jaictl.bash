# bash completion for jaictl(8).
# Install as /usr/share/bash-completion/completions/jaictl (or source it from ~/.bashrc).
#
# Commands, subcommands, options and --state values; a file for `policy check` and --socket. Session ids are not
# completed: listing them needs the admin socket, and `jaictl sessions` shows them.

_jaictl_complete() {
    local cur prev
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_CWORD:+${COMP_WORDS[COMP_CWORD - 1]}}

    case $prev in
        --socket)
            compopt -o default
            COMPREPLY=()
            return
            ;;
        --state)
            mapfile -t COMPREPLY < <(compgen -W 'running exited signaled failed denied daemon-restart' -- "$cur")
            return
            ;;
        --user)
            mapfile -t COMPREPLY < <(compgen -u -- "$cur")
            return
            ;;
        --since | --until)
            COMPREPLY=()
            return
            ;;
    esac

    # The command and subcommand: the first words that are neither options nor option values.
    local i word command='' sub=''
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case $word in
            --socket | --state | --user | --since | --until) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z $command ]]; then
                    command=$word
                elif [[ $command == policy && -z $sub ]]; then
                    sub=$word
                fi
                ;;
        esac
    done

    local options='--socket --json --help'
    case $command in
        '') options+=' --version' ;;
        sessions) options+=' --user --state --since --all' ;;
        audit) options+=' --since --until --user' ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
        return
    fi
    case $command in
        '') mapfile -t COMPREPLY < <(compgen -W 'sessions show kill audit policy health' -- "$cur") ;;
        policy)
            if [[ -z $sub ]]; then
                mapfile -t COMPREPLY < <(compgen -W 'check reload show' -- "$cur")
            elif [[ $sub == check ]]; then
                compopt -o default
                COMPREPLY=()
            fi
            ;;
        *) COMPREPLY=() ;;
    esac
}

complete -F _jaictl_complete jaictl
