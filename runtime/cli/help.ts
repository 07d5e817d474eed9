export const HELP = `shoal: a self-balancing cluster runtime for Node.js web apps

Usage:
  shoal start <entry> [options] [-- app args]   run <entry> clustered
  shoal status [--json] [--cluster] [--name N]  workers, load and state of a running cluster
                                                (--cluster: every host sharing its Redis)
  shoal reload [--parallel K] [--json] [--name N]  replace every worker, without failing a request
  shoal scale N|+N|-N [--name N]                change the number of workers
  shoal stop [--name N]                         stop gracefully; returns when done
  shoal new <dir> [--no-install] [--force]      create a ready app in <dir> (fastify, sessions, tests)
  shoal --help | --version

Options for start:
  -w, --workers N|max   worker processes (default: the CPUs this process may use, cgroup-aware)
  -p, --port P          port to serve (default: $PORT or 3000)
      --host H          address to bind (default: all interfaces)
  -b, --balancer NAME   least-conn (default), round-robin, weighted-round-robin, ip-hash, least-load
  -n, --name NAME       cluster name (default: the config's name or the entry's folder name,
                        with -<port> appended when a running cluster has it)
      --config FILE     options file (default: ./shoal.config.json when present)
      --wait-ready      a worker takes traffic only after the app calls ready() from 'shoal'
      --stop-timeout MS how long workers may finish in-flight requests on stop (default 10000)
      --ready-timeout MS how long a new worker may take to listen (default 30000)
      --max-memory SIZE a worker above this resident memory (e.g. 512M) is replaced gracefully
      --hang-timeout MS a worker silent this long (blocked event loop) leaves rotation (default 3000)
      --hang-grace MS   and is killed and replaced if still silent this much later (default 5000)
      --queue-timeout MS how long an accepted connection may wait for a worker (default 10000)
      --max-sessions N  sessions kept in memory per host, least recently used dropped beyond (default 100000)
      --max-session-memory SIZE  session data kept in memory per copy (default 64M)
      --redis URL       share sessions with other hosts through Redis (redis:// or rediss://)
      --redis-prefix P  prefix of every Redis key (default shoal:); one per app
      --redis-cluster   the --redis URL is a node of a Redis Cluster
      --redis-queue-max N  sessions whose changes may wait while Redis is away (default 100000)
      --redis-queue-memory SIZE  and their size (default 64M); past either, the queue is dropped
                        and this host re-seeds Redis with all its sessions when Redis is back
      --sessions MODE   with --redis: replicated (default: every host holds every session) or
                        distributed (Redis is the store; hosts cache, bounded by --max-sessions)
      --verbose         debug logs, and stack traces on errors

Options for new:
      --no-install      write the app without running npm install
  -f, --force           write into a folder that is not empty (files of the same name are replaced)
      --shoal-spec SPEC the app's shoal dependency as package.json gets it, e.g. ^0.2.0 or
                        file:../shoal (relative to the app); default: a copy of this shoal
                        packed into the app's vendor/ folder

Environment: PORT, SHOAL_WORKERS, SHOAL_BALANCER, SHOAL_HOST, SHOAL_NAME, SHOAL_MAX_MEMORY,
  SHOAL_MAX_SESSIONS, SHOAL_MAX_SESSION_MEMORY, SHOAL_REDIS_URL, SHOAL_REDIS_PREFIX, SHOAL_SESSIONS,
  SHOAL_REDIS_QUEUE_MAX, SHOAL_REDIS_QUEUE_MEMORY, SHOAL_LOG_LEVEL.
Flags win over the environment, which wins over shoal.config.json.
Signals: SIGTERM/SIGINT stop gracefully (a second one stops at once); SIGHUP reloads.
Control commands find the cluster by --name, or the only one running.
`;
