// Gopeer is a peer-to-peer chat for the terminal. Two people meet through a
// code the host shows and an optional password; their terminals swap
// encrypted WebRTC offers through a board (a Firebase Realtime Database used
// as a short-lived bulletin board, or gopeer's own), then talk directly over
// an encrypted data channel. Nothing is written to disk, and the room leaves
// the board as soon as the two are connected. Gopeer speaks pypeer's
// protocol, so a gopeer user can chat with a pypeer user.
//
// # Usage
//
//	gopeer                      a menu: host or join (on a terminal)
//	gopeer -host [-room CODE]   host a room and wait for a peer
//	gopeer -join CODE           join a room (a gopeer code, or a room code)
//	gopeer -send PATH...        send files and folders to another gopeer
//	gopeer -receive CODE        receive them (into -to DIR, else here)
//	gopeer -host -serve ADDR    host on a board of your own (LAN mode)
//	gopeer -serve ADDR          run a board for others
//	gopeer -janitor             purge stale rooms from a Firebase board
//	gopeer -h | -help | -version
//
// The host prints its code and the command the other person runs. The
// code, like K7P2M0-4F9Q-XW, is the room code, a secret part that never
// touches the board, and a check that catches a typo. Another gopeer that
// joins with it proves it holds the code (CPace, a PAKE, then a key
// confirmation bound to the connection), so nobody on the board can test
// guesses at it offline or sit in the middle unseen; both sides then say
// "gopeer protocol, confirmed" and show a verification string to compare.
// A pypeer user joins the same room with the six-character room code and
// the password, as before: that session is labelled unconfirmed. By
// default both meet on pypeer's public board and use Google's STUN servers
// to find a path between them: both learn each person's IP address, as the
// peer does. A host that cannot reach the default board (no internet)
// serves a board itself, on port 8765, and prints the -db URL to join with.
//
// # Options
//
//	-db URL
//		The board to meet on. Default: $PYPEER_URL, else pypeer's public
//		board. A query string (?auth=SECRET) is sent with every request
//		and never printed.
//	-ice URLS
//		Comma-separated stun: and turn: URLs, or "none" for direct paths
//		only. Default: pypeer's Google STUN servers. TURN credentials come
//		from $GOPEER_TURN_USERNAME and $GOPEER_TURN_PASSWORD.
//	-room CODE
//		With -host: use this room code instead of a random one. It is
//		refused while the room holds a live offer.
//	-secure
//		With -host: accept only a gopeer that proves it holds the code;
//		a pypeer answer is refused and the room stays open.
//	-verify
//		With -host, or -join and a gopeer code: once connected, both
//		people compare the 8 digits aloud or in person, and the chat
//		starts only when both said they are the same. One side asking is
//		enough: the other is asked too. A "no" ends the session on both
//		sides (not_verified). A host with -verify is -secure.
//	-timeout DURATION
//		How long to wait for the peer. Default: 3m, as pypeer.
//	-reconnect DURATION
//		How long a gopeer session whose path broke (Wi-Fi off and on, a
//		new address) tries to come back before it ends. Default: 2m; 0
//		ends it as pypeer does. Both ends restart ICE through the board
//		they met on, sealed under the session's key, and say
//		"reconnecting" and "reconnected"; what was sent meanwhile arrives
//		once, in order. Only between two gopeers, and not on a board the
//		host serves itself (it stops once the peers are connected).
//	-password-file FILE
//		Read the room password from the first line of FILE.
//	-json
//		Line mode with JSON events (below).
//	-echo
//		Send every received message straight back, like the far end of
//		ping, so a path's round trip can be measured from the other side.
//		Stdin is ignored.
//
// The password is asked at a hidden prompt on a terminal; otherwise it
// comes from -password-file, then $GOPEER_PASSWORD. It is never a flag
// value (any user of the machine can read a command line). No password is
// allowed, as in pypeer, but then anyone who learns the code can read and
// replace the offer: share a password apart from the code. Whoever reads
// the board can test guesses offline, millions a second, so the host is
// told when its password is shorter than 20 characters: five random words
// or more hold (docs/SECURITY.md).
//
// # On a terminal
//
// Plain gopeer shows a menu and returns to it when a chat ends. With -host
// or -join gopeer does that one thing and exits: Esc or Ctrl-C while
// connecting exits 130 and takes the room off the board. In the chat,
// messages print above the line being typed. Keys:
//
//	Enter                     send
//	Ctrl-J, or \ then Enter   a new line in the message
//	Up, Down                  history (in a multi-line draft: its lines)
//	Left, Right, Home, End    move (Ctrl-B, Ctrl-F, Ctrl-A, Ctrl-E too)
//	Alt-B, Alt-F              move by word (Ctrl-Left, Ctrl-Right too)
//	Backspace, Delete         delete a character before or under the cursor
//	Ctrl-U, Ctrl-K, Ctrl-W    delete to the start or end of the line, a word
//	Ctrl-L                    redraw the line being typed
//	Ctrl-D                    delete under the cursor; on an empty line, leave
//	Ctrl-C                    leave (what was sent is delivered first)
//
// In a gopeer session, a ✓ follows a message of yours once the peer's
// gopeer has shown it.
//
// The cursor moves and deletes by what reads as one character: an emoji
// with a skin tone, a flag or a family is one. A paste is text, never a
// command, and is sent as one message. Commands:
//
//	/help    keys and commands
//	/info    the room, the protocol (gopeer, confirmed; or pypeer), the
//	         kind of path, the round trip, the board
//	/verify  in a gopeer session, the 8 digits to compare with the peer
//	         another way: the same on both screens means nobody is in
//	         the middle
//	/send PATH  in a gopeer session, offer a file or a folder (Tab
//	         completes the path); the peer answers y or n, and files
//	         land in the folder gopeer runs in
//	/cancel  stop a transfer, either way
//	/clear   clear the screen
//	/quit    leave
//
// A line starting with / is a command; start it with // to send a /.
//
// # Line mode
//
// When stdin is not a terminal, each stdin line is one message (empty lines
// are skipped) and each received message is one stdout line, sanitized:
// control characters show as pictures (ESC as ␛), never act. Status,
// warnings and errors go to stderr. At the end of stdin gopeer waits until
// the peer has what was sent, then exits 0; when the peer leaves, it exits
// 0 too. Under -verify the first stdin line answers the comparison: yes or
// no.
//
// With -json, stdout carries one JSON object per line:
//
//	{"event":"room","room":"K7P2M0","code":"K7P2M0-4F9Q-XW","db":"URL","web":"URL/#K7P2M0-4F9Q-XW"}
//	                                                the host's room is on the board: a
//	                                                gopeer joins with code, pypeer with room,
//	                                                a browser opens web (on a gopeer board)
//	{"event":"connected","protocol":"gopeer","verified":true,"verify":"1234 5678"}
//	                                                or "protocol":"pypeer","verified":false
//	{"event":"message","text":"..."}                exactly as received
//	{"event":"compare","verify":"1234 5678"}        -verify, on either side: compare, then answer
//	                                                with the next stdin line {"same":true|false}
//	{"event":"compared"}                            both said the same: the chat starts
//	{"event":"delivered","id":3}                    gopeer sessions: the peer's gopeer showed
//	                                                the 3rd message this side sent
//	{"event":"warning","message":"..."}             gopeer carries on
//	{"event":"reconnecting","message":"..."}        a gopeer session's path broke: restoring it
//	{"event":"reconnected","message":"reconnected"} and it is back; what waited is sent
//	{"event":"closed","reason":"you left"}          or "peer left", "connection lost"
//	{"event":"error","kind":"...","message":"...","hint":"..."}
//
// Error kinds: usage, wrong_password, timeout, board, connection,
// room_in_use, cancelled, not_verified (the numbers differed under
// -verify). Every failure, a command line that does not parse
// included, is an error event. Each stdin line is an object {"text":"..."};
// an empty text is refused with a warning.
//
// A message is at most 65,536 bytes (aiortc's limit): a longer one, typed,
// pasted or piped, is refused with a warning, never cut; one from the peer
// is dropped with a warning. A message that is exactly __ping__ is refused
// too: it is pypeer's keep-alive, which every peer drops unseen.
//
// # Files
//
// gopeer -send PATH... reads and hashes the files and folders named (the
// flags go before them), hosts a room that only a gopeer can join (as
// -secure), and prints the code and the exact command to receive:
// gopeer -receive CODE. The receiver sees the names, the count and the
// total size, and answers yes or no (-yes answers yes); nothing is
// written before that yes. Files land in -to DIR (default: the current
// folder), folders with their tree, empty folders and permission bits
// (never setuid or setgid); symbolic links inside a folder are skipped,
// with a note. Every file's SHA-256 is checked before it gets its name;
// both sides exit 0 only when every file arrived and checked out.
//
//	-to DIR        where received files go
//	-yes           take the offer without asking
//	-overwrite     replace files already there (without it, a file in the
//	               way refuses the whole offer; the same file already
//	               there is not sent again)
//
// A file arrives as NAME.gopeer-part and is renamed once checked. A
// transfer cut off (a lost connection, a killed process, a cancel) leaves
// the part; sending the same file to the same place again checks the
// part and sends only the rest. The receiver refuses a name with "..", an
// absolute path, a drive letter, a backslash or a NUL, any path that
// would leave the folder (through a symbolic link already there, too),
// more bytes than announced, and an offer of over 100,000 entries. With
// -json the events are:
//
//	{"event":"offer","summary":"photos: 3 files, 2.1 MiB","files":3,"dirs":1,"bytes":2202009}
//	{"event":"progress","name":"photos/a.jpg","bytes":N,"total":N,"resumed":N,"rate":N,"eta":S}
//	{"event":"file_done","name":"photos/a.jpg","size":N,"sha256":"..."}
//	{"event":"done","files":3,"bytes":2202009}
//
// progress comes at most ten times a second; without -yes, -json answers
// the offer with {"accept":true} or {"accept":false}. Error kinds add
// refused (the receiver said no or refused the offer) and transfer (a file
// did not arrive whole: damaged, a size lie, a full disk).
//
// # Exit status
//
//	0    the chat ended: you or the peer left
//	1    it failed: board unreachable or refusing, timeout, connection lost
//	2    usage error
//	3    wrong password (the joiner wrote nothing to the board), a gopeer
//	     code the peer did not confirm, or a host's room closed after
//	     three such joiners
//	130  cancelled (Ctrl-C, Esc, SIGTERM) before the chat began
//
// The same on a terminal and in line mode. A failure prints what went
// wrong, then a hint on what to try.
//
// # Environment
//
//	PYPEER_URL              the default board, as in pypeer
//	GOPEER_PASSWORD         the room password, when no terminal can ask
//	GOPEER_TURN_USERNAME    credentials for turn: URLs in -ice
//	GOPEER_TURN_PASSWORD
//	NO_COLOR, TERM=dumb     no colour on the terminal
//	GOPEER_DEBUG            pion's own logs on stderr (they hold ICE credentials)
//	GOPEER_PING_INTERVAL    the keep-alive period instead of pypeer's 15 s
//	GOMEMLIMIT              Go's soft memory limit; a chat asks for 14 MiB otherwise,
//	                        a transfer 24 MiB
//	GOGC                    Go's collector pacing; a transfer otherwise collects
//	                        only at its limit
//	FIREBASE_DB_URL         the janitor's database
//	FIREBASE_DB_SECRET      its secret, and -serve's admin secret
//	FIREBASE_ACCESS_TOKEN   an OAuth token for the janitor instead
//
// # A board of your own
//
// gopeer -serve ADDR runs a Firebase-compatible board in memory and prints
// its URL as the first stdout line; peers use it with -db URL, pypeer with
// PYPEER_URL=URL. Anonymous clients may only read a room whose code they
// know and write its offer and answer once each, in pypeer's shape; rooms
// expire by themselves. Its options:
//
//	-secret-file FILE         the admin secret (else $FIREBASE_DB_SECRET): ?auth=SECRET reads and writes anything
//	-tls-cert FILE            serve HTTPS with this certificate chain (PEM)
//	-tls-key FILE             and this key
//	-room-ttl DURATION        remove a room this long after it appears (10m)
//	-max-body BYTES           largest request body (65536)
//	-max-payload BYTES        largest offer or answer payload (16384)
//	-max-rooms N              rooms held at once (10000)
//	-max-rooms-per-addr N     rooms created by one address held at once (32)
//	-max-bytes BYTES          bytes of JSON held in all rooms (67108864: 64 MiB)
//	-max-streams N            streams open at once (10000)
//	-max-streams-per-addr N   streams from one address (16)
//	-max-conns-per-addr N     connections from one address (32)
//	-write-rate N             writes per second from one address (10)
//	-write-burst N            and in a burst (100)
//	-read-rate N              reads per second from one address; a room that does not exist costs 10 (20)
//	-read-burst N             and in a burst (200)
//	-header-timeout DURATION  time to send a request's headers (10s)
//	-read-timeout DURATION    time to send a whole request (30s)
//	-idle-timeout DURATION    time a connection may wait between requests (15s)
//	-trust-proxy              take the client address from X-Forwarded-For on loopback
//
// An address is an IPv4 address or an IPv6 /48. A limit of 0 turns it
// off. The board logs counts to stderr once a
// minute, never room codes, payloads, addresses or secrets. See
// docs/BOARD.md.
//
// # The janitor
//
// gopeer -janitor purges, once, every room whose offer is older than
// -max-age and every room with no readable offer, from the database in -db
// or $FIREBASE_DB_URL, with its secret from -secret-file or
// $FIREBASE_DB_SECRET (or an OAuth token, -access-token-file or
// $FIREBASE_ACCESS_TOKEN). It never names a room in its output.
//
//	-max-age DURATION         purge rooms older than this (10m)
//	-dry-run                  report what would be purged; delete nothing
//	-access-token-file FILE   an OAuth access token instead of the secret
//
// It exits 0 when clean, 1 when it could not finish or left rooms it could
// not handle, 2 on a usage error, 130 when interrupted. See docs/JANITOR.md.
//
// # More
//
// docs/PROTOCOL.md is the wire protocol and what it protects;
// docs/RELIABILITY.md the faults and hostile inputs gopeer is tested
// against; docs/FIGURES.md its measured speed and memory.
package main
