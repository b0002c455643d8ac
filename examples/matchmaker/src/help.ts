// Usage texts of the matchmaker command line.

export const HELP = `Usage: maestro-example-matchmaker <command> [options]

A small matchmaker for the example game room.

Commands:
  allocate      allocate a ready room of a scheduler and play a round with it
  play          play a round with a room already allocated (e.g. by "maestroctl allocate")
  serve-events  receive the events Maestro forwards (gRPC eventforwarder.GRPCForwarder) and print them

Run "maestro-example-matchmaker <command> --help" for a command's options.
`;

export const ALLOCATE_HELP = `Usage: maestro-example-matchmaker allocate --scheduler <name> [options]

Allocates a ready room (rooms API), connects to its game port, sends a few lines, checks the echoes, asks for the
room's stats and disconnects. The room is occupied while connected and ready again afterwards.

Options:
  --scheduler <name>    scheduler to allocate from (required)
  --url <url>           management API (env MAESTRO_URL, default http://127.0.0.1:8080)
  --rooms-url <url>     rooms API (env MAESTRO_ROOMS_URL, default http://127.0.0.1:8070)
  --token <token>       bearer token (env MAESTRO_TOKEN)
  --matchmaker-token <token>
                        rooms API matchmaker token (env MAESTRO_MATCHMAKER_TOKEN; the server's
                        roomsApi.matchmakerTokens; not needed on loopback with none configured)
  --port-name <name>    room port to connect to (default game)
  --lines <n>           lines to send (default 3)
  --hold-ms <ms>        stay connected this long after the exchange (default 0); Ctrl-C ends the hold early
  --events-port <port>  also receive forwarded events on this port and print those of the allocated room
  --json                print the result as JSON on stdout; progress goes to stderr
  -h, --help            show this help
`;

export const PLAY_HELP = `Usage: maestro-example-matchmaker play (--address <host:port> | --allocation <file|->) [options]

Plays a round with a room you already allocated: connects, sends a few lines, checks the echoes, asks for the room's
stats and disconnects.

  maestroctl allocate my-game -o json | maestro-example-matchmaker play --allocation -

Options:
  --address <host:port>   the room's game port ("maestroctl allocate <scheduler>" prints host and ports)
  --allocation <file|->   the JSON "maestroctl allocate <scheduler> -o json" printed; - reads stdin
  --port-name <name>      with --allocation, the room port to connect to (default game)
  --lines <n>             lines to send (default 3)
  --hold-ms <ms>          stay connected this long after the exchange (default 0); Ctrl-C ends the hold early
  --json                  print the result as JSON on stdout; progress goes to stderr
  -h, --help              show this help
`;

export const SERVE_HELP = `Usage: maestro-example-matchmaker serve-events [options]

Runs a gRPC server implementing eventforwarder.GRPCForwarder and prints every event Maestro forwards to it. Point a
scheduler at it with a forwarder entry:

  forwarders:
    - { name: matchmaker, enable: true, type: gRPC, address: "127.0.0.1:9090", options: { timeout: 1000 } }

Options:
  --port <port>  port to listen on (default 9090; 0 picks a free one)
  --host <host>  address to listen on (default 127.0.0.1)
  --json         print each event as one JSON line
  -h, --help     show this help
`;
