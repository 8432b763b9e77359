"""Throwaway PostgreSQL 15 servers, one per region, for the tests and for CI: each can be gone the three ways a
region's database goes away (docs/architecture.md, "When a region does not answer"), and come back.

    server = regionservers.start("eu")   # about half a second: initdb, start, a database "bcp"
    server.url                           # postgres://postgres@10.77.12.6:5432/bcp (user postgres, trust auth)
    server.stop()                        # stopped: a connect is refused at once
    server.start_again()
    server.hang()                        # hung (SIGSTOP): the port accepts, nothing answers, open queries wait
    server.resume()
    server.partition()                   # cut off: every packet dropped, nothing refused; queries and connects
    server.heal()                        # wait until the client's own timeout
    server.remove()                      # processes, network namespace, files: nothing left behind

Each server lives in a directory of its own, /tmp/bcp-region-<name>-*, owned by the postgres user: the data
directory, the server's log (server.log) and its Unix socket. fsync is off: a test server needs no durability.

A partition needs the server on a network of its own: by default it runs in a network namespace (`ip netns`)
joined to this machine by a veth pair, 10.77.X.Y+1 on our side and 10.77.X.Y+2 (where it listens) on its
side. A partition takes the namespace's end of the pair down: our packets to it are dropped by the pair, its
packets have no route, and neither side sends a reset or an ICMP error. Our side keeps a permanent neighbour
entry for the server's address, so that a long partition never turns into "no route to host" when an ARP
lookup fails. With own_network=False the server listens on 127.0.0.1 at a free port instead (CI's region
servers; no partition there).

Root only: initdb runs as the postgres user (runuser) and `ip netns` needs CAP_SYS_ADMIN; unavailable() says why
a machine cannot run them. Nothing outlives its owner: start() removes whatever a failed start left, an atexit
hook removes the servers this process started, and every start() first sweeps the servers whose owning process
has died (SIGKILL, a crash). The command line (for .ci/run) starts servers that belong to a process named on it:

    python3 -m tests.regionservers start --owner $$ --state FILE na eu apac   # prints REGION_DATABASE_URLS=...
    python3 -m tests.regionservers stop --state FILE

Only the standard library: CI runs it before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

PG_BIN = Path(os.environ.get("BCP_PG_BIN", "/usr/lib/postgresql/15/bin"))
DIR_PREFIX = "bcp-region-"
NETNS_PREFIX = "bcp-region-"
STATE_FILE = "server.json"
NS_PORT = 5432  # the namespace is the server's alone, so the usual port is always free there
_SLOTS = 256 * 64  # a /30 in 10.77.0.0/16 per server: slot n is 10.77.(n // 64).((n % 64) * 4)/30


class RegionServerError(RuntimeError):
    """A server could not be started, stopped or changed; the message has the command's output."""


def unavailable(*, own_network: bool = True) -> str | None:
    """Why this machine cannot run these servers, or None when it can."""
    if not sys.platform.startswith("linux"):
        return "throwaway region servers need Linux"
    if os.geteuid() != 0:
        return "throwaway region servers need root (initdb as the postgres user, network namespaces)"
    missing = [tool for tool in ("initdb", "pg_ctl", "createdb") if not (PG_BIN / tool).exists()]
    if missing:
        return f"throwaway region servers need PostgreSQL 15's {', '.join(missing)} in {PG_BIN}"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "throwaway region servers need a postgres user"
    if not shutil.which("runuser"):
        return "throwaway region servers need runuser (util-linux)"
    if own_network and not _namespaces_work():
        return "throwaway region servers need network namespaces (ip netns, unshare --net)"
    return None


_namespaces_checked: bool | None = None


def _namespaces_work() -> bool:
    global _namespaces_checked
    if _namespaces_checked is None:
        _namespaces_checked = bool(shutil.which("ip") and shutil.which("unshare")) and subprocess.run(
            ["unshare", "--net", "true"], capture_output=True, timeout=10).returncode == 0
    return _namespaces_checked


@dataclass
class Server:
    """One throwaway server. Build it with start(); everything it owns is named here, so that remove() (or a
    later sweep, from server.json) can take it all down."""

    name: str
    base_dir: Path
    host: str
    port: int
    dbname: str
    owner_pid: int
    owner_started: str | None
    netns: str | None = None
    host_veth: str | None = None
    ns_veth: str | None = None
    host_address: str | None = None
    hung: bool = field(default=False)
    partitioned: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"postgres://postgres@{self.host}:{self.port}/{self.dbname}"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def postmaster_pid(self) -> int | None:
        """The running postmaster's pid (from postmaster.pid), or None when the server is not running."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        # A server that died leaves its postmaster.pid behind, and the pid may belong to someone else by now.
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        return pid if _alive(pid) and str(self.data_dir).encode() in command else None

    def pids(self) -> list[int]:
        """The postmaster first, then all its descendants (backends, checkpointer, walwriter ...)."""
        postmaster = self.postmaster_pid
        return [] if postmaster is None else [postmaster, *_descendants(postmaster)]

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (pg_ctl stop -m smart|fast|immediate). A hung server is resumed first: it could not
        take the signal. Afterwards a connect is refused at once."""
        if self.hung:
            self.resume()
        if self.postmaster_pid is None:
            return
        self._pg_ctl("stop", "-m", mode)

    def start_again(self) -> None:
        """Start a stopped server again (after an immediate stop it recovers first; the data is kept)."""
        if self.postmaster_pid is not None:
            return
        self._pg_ctl("start", "-l", str(self.log_file))

    def hang(self) -> None:
        """SIGSTOP the postmaster, then every process under it: connections stay open and the port still
        accepts, but nothing answers (a server stuck on a full disk or a frozen VM)."""
        postmaster = self.postmaster_pid
        if postmaster is None:
            raise RegionServerError(f"region server {self.name} is not running: nothing to hang")
        # The postmaster first, so that it forks nothing new while we stop its children.
        os.kill(postmaster, signal.SIGSTOP)
        self.hung = True
        self._save()
        # Until every one has stopped: a child forked just before the postmaster stopped shows up late. A child
        # that has exited stays a zombie (Z) until the postmaster, stopped, reaps it.
        deadline = time.monotonic() + 5
        while running := [pid for pid in _descendants(postmaster) if _state(pid) not in ("T", "t", "Z", "X", None)]:
            if time.monotonic() > deadline:
                states = ", ".join(f"{pid}: {_state(pid)}" for pid in running)
                raise RegionServerError(f"region server {self.name}: some processes did not stop ({states})")
            for pid in running:
                _signal(pid, signal.SIGSTOP)
            time.sleep(0.01)

    def resume(self) -> None:
        """SIGCONT what hang() stopped."""
        postmaster = self.postmaster_pid
        if postmaster is not None:
            for pid in _descendants(postmaster):
                _signal(pid, signal.SIGCONT)
            _signal(postmaster, signal.SIGCONT)
        self.hung = False
        self._save()

    def partition(self) -> None:
        """Cut the server off the network: every packet between us and it is dropped, in both directions. An open
        connection's query waits for the client's own timeout (TCP user timeout, a deadline, keepalives); a new
        connect waits for connect_timeout. Nothing is refused."""
        if self.netns is None:
            raise RegionServerError(f"region server {self.name} was started with own_network=False: "
                                    "it cannot be partitioned")
        _run(["ip", "-n", self.netns, "link", "set", self.ns_veth, "down"])
        self.partitioned = True
        self._save()

    def heal(self) -> None:
        """End a partition. New connections work at once; an open connection's waiting packets are retransmitted
        on TCP's own schedule (backing off: up to a few seconds after a long partition)."""
        if self.netns is None:
            return
        _run(["ip", "-n", self.netns, "link", "set", self.ns_veth, "up"])
        carrier = Path(f"/sys/class/net/{self.host_veth}/carrier")
        deadline = time.monotonic() + 5
        while _read(carrier) != "1":
            if time.monotonic() > deadline:
                raise RegionServerError(f"region server {self.name}: the link did not come back up")
            time.sleep(0.01)
        self.partitioned = False
        self._save()

    def remove(self) -> None:
        """Stop the server and delete everything it owns: processes, network namespace, veth pair, files. Safe to
        call twice, and on a server whose start failed half-way."""
        _LIVE.pop(self.base_dir, None)
        problems = []
        pids = self.pids()
        if pids:
            for pid in pids:
                _signal(pid, signal.SIGCONT)
            try:
                self._pg_ctl("stop", "-m", "immediate", timeout=15)
            except (RegionServerError, subprocess.TimeoutExpired) as error:
                problems.append(str(error))
            for pid in self.pids():
                _signal(pid, signal.SIGKILL)
        if self.netns is not None:
            if Path("/run/netns", self.netns).exists():
                result = subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, text=True)
                if result.returncode != 0:
                    problems.append(result.stderr.strip())
            # Normally gone with the namespace; still there when a process kept the namespace alive.
            if Path("/sys/class/net", self.host_veth).exists():
                subprocess.run(["ip", "link", "del", self.host_veth], capture_output=True)
        shutil.rmtree(self.base_dir, ignore_errors=True)
        if problems:
            raise RegionServerError(f"region server {self.name} was removed, with errors: " + "; ".join(problems))

    def _pg_ctl(self, *args: str, timeout: float = 60) -> None:
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "30", *args]
        _run(_as_postgres(command, netns=self.netns if args[0] == "start" else None), timeout=timeout)

    def _save(self) -> None:
        state = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(self).items()}
        path = self.base_dir / STATE_FILE
        path.with_suffix(".tmp").write_text(json.dumps(state))
        path.with_suffix(".tmp").replace(path)

    @classmethod
    def _load(cls, base_dir: Path) -> Server:
        state = json.loads((base_dir / STATE_FILE).read_text())
        state["base_dir"] = Path(state["base_dir"])
        return cls(**state)


def start(name: str, *, dbname: str = "bcp", own_network: bool = True, owner_pid: int | None = None,
          remove_at_exit: bool = True) -> Server:
    """Start a throwaway PostgreSQL 15 server for the region `name` (used in its directory's name only) with an
    empty database `dbname`, and return it once it accepts connections.

    own_network=True (the default) runs it in a network namespace of its own, so that partition() works;
    False listens on 127.0.0.1 at a free port. The server belongs to owner_pid (default: this process):
    when that process is gone, the next start() anywhere removes it. remove_at_exit=False keeps it past this
    process's exit (the command line does that; its owner is the shell that will stop it)."""
    reason = unavailable(own_network=own_network)
    if reason:
        raise RegionServerError(reason)
    sweep()
    owner_pid = owner_pid or os.getpid()
    base_dir = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{name}-"))
    server = Server(name=name, base_dir=base_dir, host="127.0.0.1", port=0, dbname=dbname, owner_pid=owner_pid,
                    owner_started=_started(owner_pid))
    server._save()
    if remove_at_exit:
        _LIVE[base_dir] = server
    try:
        postgres = pwd.getpwnam("postgres")
        os.chown(base_dir, postgres.pw_uid, postgres.pw_gid)
        if own_network:
            _network_create(server)
        _initdb(server)
        for attempt in range(5):
            if not own_network:
                server.port = _free_port()
                _configure(server)
            server._save()
            try:
                server.start_again()
                break
            except RegionServerError:
                # Only a port another process took between our probe and the start is worth a retry.
                if own_network or "already in use" not in _read(server.log_file) or attempt == 4:
                    raise
                server.log_file.unlink(missing_ok=True)
        _run([str(PG_BIN / "createdb"), "-h", str(base_dir), "-p", str(server.port), "-U", "postgres", dbname])
    except BaseException:
        try:
            server.remove()
        finally:
            raise
    return server


def sweep() -> None:
    """Remove the servers whose owner has died, and what a start interrupted in the middle left behind."""
    tmp = Path(tempfile.gettempdir())
    known_namespaces = set()
    for base_dir in tmp.glob(f"{DIR_PREFIX}*"):
        if not base_dir.is_dir():
            continue
        try:
            server = Server._load(base_dir)
        except (OSError, ValueError, TypeError, KeyError):
            # No state yet: a start in its first milliseconds, or one killed then. Old enough means the latter.
            if _age(base_dir) > 60:
                shutil.rmtree(base_dir, ignore_errors=True)
            continue
        if _started(server.owner_pid) is None or _started(server.owner_pid) != server.owner_started:
            try:
                server.remove()
            except RegionServerError:
                pass
        elif server.netns:
            known_namespaces.add(server.netns)
    # A namespace made by a start that died before saving it.
    for netns in Path("/run/netns").glob(f"{NETNS_PREFIX}*"):
        if netns.name not in known_namespaces and _age(netns) > 60 and not _namespace_in_use(netns.name):
            subprocess.run(["ip", "netns", "del", netns.name], capture_output=True)


def _network_create(server: Server) -> None:
    used = {path.name for path in Path("/run/netns").glob(f"{NETNS_PREFIX}*")}
    for _ in range(50):
        slot = random.randrange(1, _SLOTS)  # noqa: S311 (a free slot, not a secret)
        netns = f"{NETNS_PREFIX}{slot}"
        if netns in used:
            continue
        # `ip netns add` fails when the name exists: it is the lock that keeps two starts off one slot.
        if subprocess.run(["ip", "netns", "add", netns], capture_output=True).returncode == 0:
            break
    else:
        raise RegionServerError("no free network slot for a region server")
    third, fourth = slot // 64, (slot % 64) * 4
    server.netns, server.host_veth, server.ns_veth = netns, f"bcpr{slot}h", f"bcpr{slot}n"
    server.host_address, server.host = f"10.77.{third}.{fourth + 1}", f"10.77.{third}.{fourth + 2}"
    server.port = NS_PORT
    server._save()
    _run(["ip", "link", "add", server.host_veth, "type", "veth", "peer", "name", server.ns_veth, "netns", netns])
    _run(["ip", "addr", "add", f"{server.host_address}/30", "dev", server.host_veth])
    _run(["ip", "link", "set", server.host_veth, "up"])
    _run(["ip", "-n", netns, "addr", "add", f"{server.host}/30", "dev", server.ns_veth])
    _run(["ip", "-n", netns, "link", "set", server.ns_veth, "up"])
    _run(["ip", "-n", netns, "link", "set", "lo", "up"])
    # Without it, a partition longer than ARP's patience becomes "no route to host" at once: refused, not dropped.
    ns_mac = _run(["ip", "netns", "exec", netns, "cat", f"/sys/class/net/{server.ns_veth}/address"]).strip()
    _run(["ip", "neigh", "replace", server.host, "lladdr", ns_mac, "dev", server.host_veth, "nud", "permanent"])


def _initdb(server: Server) -> None:
    _run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(server.data_dir), "-U", "postgres", "--auth=trust", "-N",
                       "-E", "UTF8", "--locale=C.UTF-8"]))
    _configure(server)


def _configure(server: Server) -> None:
    clients = ["127.0.0.1/32"] + ([f"{server.host_address}/32"] if server.host_address else [])
    (server.data_dir / "pg_hba.conf").write_text(
        "local all all trust\n" + "".join(f"host all all {client} trust\n" for client in clients))
    (server.data_dir / "postgresql.auto.conf").write_text("\n".join([
        f"listen_addresses = '{server.host}'",
        f"port = {server.port}",
        f"unix_socket_directories = '{server.base_dir}'",
        "fsync = off", "synchronous_commit = off", "full_page_writes = off",
        "shared_buffers = 32MB", "max_connections = 200",
        "",
    ]))
    postgres = pwd.getpwnam("postgres")
    for name in ("pg_hba.conf", "postgresql.auto.conf"):
        os.chown(server.data_dir / name, postgres.pw_uid, postgres.pw_gid)


def _as_postgres(command: list[str], *, netns: str | None = None) -> list[str]:
    command = ["runuser", "-u", "postgres", "--", *command]
    return ["ip", "netns", "exec", netns, *command] if netns else command


def _run(command: list[str], timeout: float = 60) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
    if result.returncode != 0:
        raise RegionServerError(f"{' '.join(command)} failed ({result.returncode}): "
                                f"{(result.stderr or result.stdout).strip()}")
    return result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces): state is [0], ppid [1]."""
    raw = _read(Path(f"/proc/{pid}/stat"))
    return raw.rpartition(")")[2].split() if raw else None


def _state(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[0] if fields else None


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


def _started(pid: int) -> str | None:
    """When the process started (clock ticks since boot), so that a reused pid is not taken for its owner."""
    fields = _stat(pid)
    return fields[19] if fields and fields[0] not in ("Z", "X") else None


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _namespace_in_use(netns: str) -> bool:
    return bool(subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.strip())


_LIVE: dict[Path, Server] = {}


@atexit.register
def _remove_live() -> None:
    # Not in a forked child that happens to exit through here: the servers are its parent's.
    for server in [server for server in _LIVE.values() if server.owner_pid == os.getpid()]:
        try:
            server.remove()
        except Exception as error:  # noqa: BLE001 (one server's trouble must not keep the others running)
            print(f"regionservers: {error}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.regionservers", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start_command = commands.add_parser("start", help="start a server per region; print REGION_DATABASE_URLS=...")
    start_command.add_argument("regions", nargs="+")
    start_command.add_argument("--state", required=True, type=Path, help="where to note the servers for stop")
    start_command.add_argument("--owner", required=True, type=int,
                               help="the process they belong to (in a shell script: $$): once it is gone, the "
                                    "next start anywhere removes them")
    start_command.add_argument("--own-network", action="store_true",
                               help="each in a network namespace of its own (default: 127.0.0.1)")
    start_command.add_argument("--dbname", default="bcp")
    stop_command = commands.add_parser("stop", help="stop and remove the servers noted in the state file")
    stop_command.add_argument("--state", required=True, type=Path)
    args = parser.parse_args(argv)

    if args.command == "start":
        servers = []
        try:
            for region in args.regions:
                servers.append(start(region, dbname=args.dbname, own_network=args.own_network,
                                     owner_pid=args.owner, remove_at_exit=False))
            args.state.write_text(json.dumps([str(server.base_dir) for server in servers]))
        except BaseException:
            for server in servers:
                server.remove()
            raise
        print("REGION_DATABASE_URLS=" + ",".join(f"{region}={server.url}"
                                                 for region, server in zip(args.regions, servers, strict=True)))
        return 0

    failed = False
    try:
        base_dirs = json.loads(args.state.read_text())
    except FileNotFoundError:
        return 0
    for base_dir in base_dirs:
        try:
            Server._load(Path(base_dir)).remove()
        except FileNotFoundError:
            continue
        except RegionServerError as error:
            print(f"regionservers: {error}", file=sys.stderr)
            failed = True
    args.state.unlink()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
