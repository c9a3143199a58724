"""A real Dovecot IMAP server on loopback, for the tests: never a mock of IMAP.

:class:`DovecotServer` writes a minimal ``dovecot.conf`` into a temporary directory (its own
base_dir, state_dir, log file, maildirs and passwd-file; no system paths, ``ssl = no``),
starts ``dovecot -F -c <conf>`` in the foreground as an unprivileged process listening on
127.0.0.1 and a free port, waits for the IMAP greeting, and stops it on exit.

Dovecot runs entirely as one user: ``default_internal_user``, ``default_login_user`` and the
userdb's uid are all the user it runs as, and the login and anvil services are not chrooted
(only root may chroot). As root (CI), the process is started as ``nobody`` instead
(``TOUCHBASE_DOVECOT_USER`` overrides): Dovecot's login processes refuse to run as root.

Example::

    with DovecotServer() as server:
        user = server.add_user()
        server.append(user, b"Subject: hi\\r\\n\\r\\nhello\\r\\n")
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template

from imapclient import IMAPClient

from channels.testing_peers import LOOPBACK, free_port

START_TIMEOUT = 15.0
POOL_SIZE = 500
"""Users written before start-up, handed out by :meth:`DovecotServer.add_user`: Dovecot
rereads a changed passwd-file at most once a second, so a user added later may not log in at
once."""
DEFAULT_USERS = {"alice": "alice-secret", "bob": "bob-secret"}

_CONF = Template("""\
# Written by tests/imap_server.py: a throwaway Dovecot, one unprivileged user, loopback only.
protocols = imap
listen = $host
instance_name = touchbase-test-$token
base_dir = $root/run
state_dir = $root/state
log_path = $root/dovecot.log
info_log_path = $root/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
mail_location = maildir:$root/mail/%u
# A throwaway server: no fsync, so filling a mailbox is quick.
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    auto = create
    special_use = \\Sent
  }
  mailbox Drafts {
    auto = create
    special_use = \\Drafts
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $root/passwd
}
userdb {
  driver = static
  args = uid=$user gid=$group home=$root/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = $host
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
  # No auth penalty: after a wrong-password test, the next login from 127.0.0.1 would wait.
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
""")


@dataclass(frozen=True)
class ImapUser:
    """A mailbox user of the test server: log in with these."""

    name: str
    password: str


def dovecot_binary() -> str | None:
    """Path of the ``dovecot`` binary, or None when it is not installed."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


class DovecotServer:
    """A Dovecot on 127.0.0.1, in a temporary directory, for as long as the ``with`` lasts."""

    def __init__(self, users: dict[str, str] | None = None, host: str = LOOPBACK) -> None:
        self.host = host
        self.port = 0
        self.users: dict[str, ImapUser] = {
            name: ImapUser(name, password)
            for name, password in (DEFAULT_USERS if users is None else users).items()
        }
        self._pool = [ImapUser(f"pool{n:03d}", secrets.token_hex(8)) for n in range(POOL_SIZE)]
        self.root: Path | None = None
        self._process: subprocess.Popen | None = None
        self._run_as = _run_as_user()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
        # As root, a directory the unprivileged user can reach (TMPDIR may be under /root).
        parent = "/tmp" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="touchbase-dovecot-", dir=parent))
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir()
        self._write_passwd()
        last_error = ""
        for _ in range(3):  # a free port can be taken between choosing and binding it
            self.port = free_port(self.host)
            self._write_conf()
            self._own_tree()
            with open(self.root / "stdout.log", "ab") as output:
                self._process = subprocess.Popen(
                    [binary, "-F", "-c", str(self.root / "dovecot.conf")],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    **self._popen_user(),
                )
            last_error = self._wait_for_greeting()
            if not last_error:
                return
            self._terminate()
        self.stop()
        raise RuntimeError(f"dovecot did not start: {last_error}")

    def stop(self) -> None:
        self._terminate()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def log(self) -> str:
        """Dovecot's log so far (for a failing test's message)."""
        path = self.root / "dovecot.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    # ------------------------------------------------------------------ users and mail

    def add_user(self, name: str | None = None, password: str | None = None) -> ImapUser:
        """A user nobody else has used, with empty folders. Unnamed ones come from the pool
        written at start-up; a named one is added to the passwd-file and waited for."""
        if name is None and password is None and self._pool:
            user = self._pool.pop(0)
            self.users[user.name] = user
            return user
        user = ImapUser(name or f"user{secrets.token_hex(4)}", password or secrets.token_hex(8))
        self.users[user.name] = user
        self._write_passwd()
        self._wait_for_login(user)
        return user

    @contextmanager
    def client(self, user: ImapUser) -> Iterator[IMAPClient]:
        """An IMAPClient logged in as ``user`` (plain loopback), logged out afterwards."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            client.login(user.name, user.password)
            yield client
        finally:
            try:
                client.logout()
            except Exception:
                client.shutdown()

    def append(
        self,
        user: ImapUser,
        raw: bytes,
        folder: str = "INBOX",
        when: datetime | None = None,
    ) -> int:
        """APPEND ``raw`` to ``folder`` (created when missing); the new message's UID."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            answer = client.append(folder, raw, msg_time=when)
        # b"[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(answer.split(b"]", 1)[0].split()[-1])

    def append_many(self, user: ImapUser, raws: list[bytes], folder: str = "INBOX") -> None:
        """APPEND each of ``raws`` to ``folder`` in one session (a backlog, quickly)."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in raws:
                client.append(folder, raw)

    def deliver(self, user: ImapUser, raw: bytes, sender: str = "") -> None:
        """Deliver ``raw`` to ``user``'s INBOX as an MTA does: through ``dovecot-lda``."""
        assert self.root is not None
        command = [_lda_binary(), "-c", str(self.root / "dovecot.conf"), "-d", user.name]
        if sender:
            command += ["-f", sender]
        done = subprocess.run(command, input=raw, capture_output=True, **self._popen_user())
        if done.returncode != 0:
            raise RuntimeError(f"dovecot-lda failed ({done.returncode}): {done.stderr!r}")

    def uidvalidity(self, user: ImapUser, folder: str = "INBOX") -> int:
        with self.client(user) as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def recreate_folder(self, user: ImapUser, folder: str) -> None:
        """Delete and create ``folder`` again: the server gives it a new UIDVALIDITY."""
        with self.client(user) as client:
            if client.folder_exists(folder):
                client.delete_folder(folder)
            client.create_folder(folder)

    # ------------------------------------------------------------------ internals

    def _write_conf(self) -> None:
        assert self.root is not None
        user, group = self._run_as
        conf = _CONF.substitute(
            host=self.host,
            port=self.port,
            root=self.root,
            user=user,
            group=group,
            token=secrets.token_hex(4),
        )
        (self.root / "dovecot.conf").write_text(conf)

    def _write_passwd(self) -> None:
        assert self.root is not None
        users = [*self.users.values(), *self._pool]
        lines = "".join(f"{u.name}:{{PLAIN}}{u.password}::::::\n" for u in users)
        path = self.root / "passwd"
        tmp = path.with_suffix(".new")
        tmp.write_text(lines)
        self._own(tmp)
        tmp.replace(path)  # atomic: Dovecot never reads half a file

    def _own_tree(self) -> None:
        assert self.root is not None
        for path in [self.root, *self.root.rglob("*")]:
            self._own(path)

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            user, group = self._run_as
            shutil.chown(path, user, group)

    def _popen_user(self) -> dict:
        if os.geteuid() != 0:
            return {}
        user, group = self._run_as
        return {"user": user, "group": group, "extra_groups": []}

    def _wait_for_greeting(self) -> str:
        """'' once the server greets with ``* OK``; otherwise why it did not."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                assert self.root is not None
                output = (self.root / "stdout.log").read_text(errors="replace")
                return f"dovecot exited: {output.strip()} {self.log()}".strip()
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(256).startswith(b"* OK"):
                        return ""
            except OSError:
                pass
            time.sleep(0.05)
        return f"no IMAP greeting on {self.host}:{self.port} within {START_TIMEOUT}s: {self.log()}"

    def _wait_for_login(self, user: ImapUser) -> None:
        if self._process is None:
            return  # not started: the file is read at start-up
        deadline = time.monotonic() + 5
        while True:
            try:
                with self.client(user):
                    return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()  # the master stops its children on SIGTERM
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _lda_binary() -> str:
    for path in ("/usr/lib/dovecot/dovecot-lda", "/usr/libexec/dovecot/dovecot-lda"):
        if os.access(path, os.X_OK):
            return path
    return shutil.which("dovecot-lda") or "dovecot-lda"


def _run_as_user() -> tuple[str, str]:
    """(user, group) Dovecot runs as: the current user, or an unprivileged one for root."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(os.environ.get("TOUCHBASE_DOVECOT_USER", "nobody"))
    else:
        entry = pwd.getpwuid(os.geteuid())
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name
