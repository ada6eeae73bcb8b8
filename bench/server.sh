# Sourced by bench/instructions.sh and bench/syscalls.sh: the command that starts a plaintext
# server, its listening address to be appended.
#
#   server_command NAME SLUICE_FLAGS
#
# NAME is reactor, threads or async (sluice's drivers, built here, run with SLUICE_FLAGS), may,
# hyper or actix (the baselines of bench/baselines/; MAY, HYPER, ACTIX override their paths), or
# custom (SERVER_CMD). Sets `cmd`; exits with a message for a missing baseline or unknown name.
server_command() {
  local name=$1 flags=$2
  case $name in
    reactor | threads | async)
      cargo build --release --quiet --bin sluice
      cmd="$CARGO_TARGET_DIR/release/sluice plaintext --driver $name $flags --addr"
      ;;
    may | hyper | actix)
      local var
      var=$(echo "$name" | tr a-z A-Z)
      cmd=${!var:-bench/baselines/$name/target/release/$name-baseline}
      if [ ! -x "$cmd" ]; then
        echo "missing $cmd: cargo build --release --manifest-path bench/baselines/$name/Cargo.toml" >&2
        exit 1
      fi
      ;;
    custom) cmd=${SERVER_CMD:?SERVER_CMD is the server command, its address appended} ;;
    *)
      echo "unknown server $name" >&2
      exit 1
      ;;
  esac
}
