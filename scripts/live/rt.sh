#!/usr/bin/env bash
# Request Tracker 5 for the live tests: installed from Debian packages, unattended, on this machine.
#
#   scripts/live/rt.sh up      install if missing, provision once, start if stopped (the default)
#   scripts/live/rt.sh reset   stop, put back the freshly provisioned database, start: a clean run
#   scripts/live/rt.sh stop    stop the server this script started
#   scripts/live/rt.sh status  say whether it is installed, provisioned and answering
#
# Idempotent: on a machine where RT runs already `up` only checks it. Needs root (apt, /etc). The tests
# read the base URL and the API tokens from $TRIAGE_RT_STATE_DIR/env (default /var/lib/triage-rt/env).
# Environment: RT_PORT (8089), TRIAGE_RT_STATE_DIR (/var/lib/triage-rt), RT_WORKERS (4),
# RT_WEBHOOK_URL (http://127.0.0.1:8090/rt-webhook): where the Scrip posts people's changes, signed with
# Standard Webhooks (the secret is in the env file); set it empty to turn the Scrip off.
set -euo pipefail

PORT=${RT_PORT:-8089}
WEBHOOK_URL=${RT_WEBHOOK_URL-http://127.0.0.1:8090/rt-webhook}
STATE_DIR=${TRIAGE_RT_STATE_DIR:-/var/lib/triage-rt}
WORKERS=${RT_WORKERS:-4}
DB_DIR=$STATE_DIR/db
DB_NAME=rtdb
DB_FILE=$DB_DIR/$DB_NAME
INSTALLED_DB=$STATE_DIR/rtdb.installed
PROVISION_VERSION=3  # bump when provision() changes: the next `up` provisions a fresh database again
PRISTINE=$STATE_DIR/rtdb.provisioned-v$PROVISION_VERSION
WEBHOOK_SECRET_FILE=$STATE_DIR/webhook-secret
ENV_FILE=$STATE_DIR/env
PID_FILE=$STATE_DIR/rt-server.pid
LOG_FILE=$STATE_DIR/rt-server.log
PASSWORD_FILE=$STATE_DIR/root-password
SITE_CONFIG=/etc/request-tracker5/RT_SiteConfig.d/70-triage-live.pm
RT_LIB=/usr/share/request-tracker5/lib
BASE_URL=http://127.0.0.1:$PORT
PACKAGES=(request-tracker5 rt5-db-sqlite rt5-standalone w3m curl)
QUEUES=(General Billing Accounts Security Privacy Legal Retention Engineering Incidents Integrations
        "Product Feedback" Mobile "Support Triage" Identity Finance)

say() { printf '[rt.sh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[rt.sh] error: %s\n' "$*" >&2; exit 1; }

installed() { [[ $(dpkg-query -W -f='${Status}\n' request-tracker5 rt5-db-sqlite rt5-standalone 2>/dev/null \
                   | grep -c 'install ok installed') == 3 ]]; }
server_pid() { # the pid of the rt-server this script started, if it still runs (not a recycled pid)
    local pid
    pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
    [[ -n $pid ]] && grep -qa rt-server "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}
answering() { # REST2 answers an authenticated call (any token in the env file) with 200
    local token
    token=$(sed -n 's/^TRIAGE_RT_TOKEN=//p' "$ENV_FILE" 2>/dev/null) || return 1
    [[ -n $token ]] || return 1
    [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $token" \
         "$BASE_URL/REST/2.0/queues/all") == 200 ]]
}

write_site_config() {
    # Written before the install so the root password is hashed with the low cost, and rewritten on
    # every start so a different RT_PORT takes effect.
    mkdir -p "$(dirname "$SITE_CONFIG")"
    [[ -s $WEBHOOK_SECRET_FILE ]] || (umask 077; echo "whsec_$(head -c 24 /dev/urandom | base64)" > "$WEBHOOK_SECRET_FILE")
    cat > "$SITE_CONFIG" <<PERL
# Written by scripts/live/rt.sh: a throwaway RT for the triage agent's live tests.
Set(\$BcryptCost, 4);            # ~14 ms per authenticated request instead of ~200 ms
Set(\$MailCommand, 'mbox');      # outgoing mail goes to a file under /var/lib/request-tracker5
Set(\$WebDomain, '127.0.0.1');
Set(\$WebPort, $PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, '$BASE_URL');
Set(\$Timezone, 'UTC');
Set(\$LogToSyslog, '');
Set(\$LogToSTDERR, 'warning');
Set(\$RestrictReferrer, 0);
# Read by the "Triage agent webhook" Scrip (provision below).
Set(\$TriageWebhookURL, '$WEBHOOK_URL');
Set(\$TriageWebhookSecret, '$(cat "$WEBHOOK_SECRET_FILE")');
Set(\$TriageAgentUser, 'triage-agent');
1;
PERL
    chmod 640 "$SITE_CONFIG"
}

install_rt() {
    say "installing Request Tracker 5 from Debian packages (SQLite at $DB_FILE)"
    mkdir -p "$DB_DIR"
    chmod 700 "$STATE_DIR"
    [[ -s $PASSWORD_FILE ]] || (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$PASSWORD_FILE")
    debconf-set-selections <<SEL
request-tracker5 request-tracker5/dbconfig-install boolean true
request-tracker5 request-tracker5/database-type select sqlite3
request-tracker5 request-tracker5/db/basepath string $DB_DIR
request-tracker5 request-tracker5/db/dbname string $DB_NAME
request-tracker5 request-tracker5/initial-root-password password $(cat "$PASSWORD_FILE")
request-tracker5 request-tracker5/rtname string triage-live
request-tracker5 request-tracker5/organization string triage-live.example
request-tracker5 request-tracker5/correspondaddress string rt@triage-live.example
request-tracker5 request-tracker5/commentaddress string rt-comment@triage-live.example
request-tracker5 request-tracker5/webbaseurl string $BASE_URL
request-tracker5 request-tracker5/webpath string /
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
SEL
    write_site_config
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"$STATE_DIR/apt.log" 2>&1 \
        || { tail -30 "$STATE_DIR/apt.log" >&2; die "apt-get install failed (full log: $STATE_DIR/apt.log)"; }
    [[ -f $DB_FILE ]] || die "the install did not create the SQLite database $DB_FILE"
    # provision() starts from this copy, so a new provisioning version starts from a clean database
    [[ -f $INSTALLED_DB ]] || cp "$DB_FILE" "$INSTALLED_DB"
    say "installed ($(dpkg-query -W -f='${Version}' request-tracker5))"
}

provision() {
    # Users, rights, queues and custom fields through RT's own Perl API (REST2 cannot grant rights), with
    # the server stopped; then the database is kept as the clean state `reset` goes back to.
    stop_server
    say "provisioning users, rights, queues, custom fields and the webhook Scrip (v$PROVISION_VERSION)"
    if [[ -f $INSTALLED_DB ]]; then
        cp "$INSTALLED_DB" "$DB_FILE"
        rm -f "$DB_FILE-journal" "$DB_FILE-wal" "$DB_FILE-shm"
    fi
    local out
    out=$(QUEUES="$(printf '%s\n' "${QUEUES[@]}")" perl -I"$RT_LIB" - <<'PERL'
use strict;
use warnings;
use RT;
RT::LoadConfig();
RT::Init();
my $system = RT->SystemUser;

sub check { my ($what, $ok, $msg) = @_; die "$what: $msg\n" unless $ok; }

sub user {
    my ($name, $email) = @_;
    my $user = RT::User->new($system);
    $user->Load($name);
    unless ($user->id) {
        check("create user $name", $user->Create(Name => $name, EmailAddress => $email, Privileged => 1));
    }
    return $user;
}

sub grant {
    my ($user, @rights) = @_;
    for my $right (@rights) {
        my ($ok, $msg) = $user->PrincipalObj->GrantRight(Right => $right, Object => $RT::System);
        die "grant $right to " . $user->Name . ": $msg\n" unless $ok || $msg =~ /already has/i;
    }
}

sub global_cf {
    my ($name, $type, $max, $lookup, $description) = @_;
    my $cf = RT::CustomField->new($system);
    $cf->LoadByName(Name => $name, LookupType => $lookup);
    unless ($cf->id) {
        check("create custom field $name", $cf->Create(Name => $name, Type => $type, MaxValues => $max,
                                                      LookupType => $lookup, Description => $description));
    }
    unless ($cf->IsGlobal) {
        check("apply custom field $name to every queue", $cf->AddToObject(RT::Queue->new($system)));
    }
}

# The agent acts as its own user, so the poller can tell its writes from people's.
my $agent = user('triage-agent', 'triage-agent@triage-live.example');
# CreateTicket: RT asks for it in the destination queue when a ticket moves there.
grant($agent, qw(SeeQueue ShowTicket ShowTicketComments ModifyTicket CommentOnTicket ReplyToTicket CreateTicket
                 OwnTicket ReassignTicket SeeCustomField ModifyCustomField ShowOutgoingEmail));
# Human colleagues tickets can be assigned to (`ana` is the conformance suite's assignee).
for my $name (qw(alice ana)) {
    grant(user($name, "$name\@triage-live.example"), qw(SeeQueue ShowTicket ShowTicketComments ModifyTicket
          CommentOnTicket ReplyToTicket OwnTicket SeeCustomField ModifyCustomField));
}

for my $name (grep { length } split /\n/, $ENV{QUEUES}) {
    my $queue = RT::Queue->new($system);
    $queue->Load($name);
    check("create queue $name", $queue->Create(Name => $name)) unless $queue->id;
}

my $ticket_cf = RT::Ticket->CustomFieldLookupType;
my $txn_cf = RT::Transaction->CustomFieldLookupType;
global_cf('Category', 'Freeform', 1, $ticket_cf, 'Category the triage agent decided');
global_cf('Tags', 'Freeform', 0, $ticket_cf, 'Tags set by people or the triage agent');
global_cf('Triage Key', 'Freeform', 1, $txn_cf, 'Idempotency key of the triage agent write that made this transaction');

# RT has no outbound webhooks: this Scrip posts each batch of changes a person (not the agent) made,
# signed with Standard Webhooks, to $TriageWebhookURL (nothing when that is empty).
my $scrip_name = 'Triage agent webhook';
my $scrip = RT::Scrip->new($system);
$scrip->LoadByCols(Description => $scrip_name);
unless ($scrip->id) {
    check("create the $scrip_name Scrip", $scrip->Create(
        Description => $scrip_name, Queue => 0, Stage => 'TransactionBatch',
        ScripCondition => 'User Defined', ScripAction => 'User Defined', Template => 'Blank',
        CustomIsApplicableCode => <<'CODE',
return 0 unless RT->Config->Get('TriageWebhookURL');
my $agent = RT->Config->Get('TriageAgentUser') || 'triage-agent';
my @batch = @{ $self->TicketObj->TransactionBatch || [] };
return scalar grep { my $who = $_->CreatorObj->Name; $who ne $agent && $who ne 'RT_System' } @batch;
CODE
        CustomPrepareCode => 'return 1;',
        CustomCommitCode => <<'CODE',
require LWP::UserAgent; require JSON; require MIME::Base64; require Digest::SHA;
my $txn = $self->TransactionObj;
my %kinds = (Create => 'created', Correspond => 'comment', Comment => 'comment');
my $body = JSON->new->canonical->encode({ type => 'ticket.' . ($kinds{ $txn->Type } || 'updated'),
    ticket_id => '' . $self->TicketObj->id, transaction_id => '' . $txn->id });
my $secret = RT->Config->Get('TriageWebhookSecret') // '';
my $key = $secret =~ /^whsec_(.+)$/ ? MIME::Base64::decode_base64($1) : $secret;
my ($id, $stamp) = ('rt-txn-' . $txn->id, time);
my $signature = MIME::Base64::encode_base64(Digest::SHA::hmac_sha256("$id.$stamp.$body", $key), '');
my $answer = LWP::UserAgent->new(timeout => 3)->post(RT->Config->Get('TriageWebhookURL'),
    'Content-Type' => 'application/json', 'webhook-id' => $id, 'webhook-timestamp' => $stamp,
    'webhook-signature' => "v1,$signature", Content => $body);
RT->Logger->warning("triage webhook for ticket " . $self->TicketObj->id . ": " . $answer->status_line)
    unless $answer->is_success;
return 1;
CODE
    ));
}

my %tokens;
for my $owner (['AGENT', $agent], ['HUMAN', RT::User->new($system)]) {
    my ($label, $user) = @$owner;
    $user->Load('root') unless $user->id;
    my $token = RT::AuthToken->new($system);
    my ($ok, $msg, $secret) = $token->Create(Owner => $user->id, Description => "triage live tests ($label)");
    check("create auth token for " . $user->Name, $ok, $msg);
    print "$label=$secret\n";
}
PERL
    ) || die "provisioning failed (see the message above)"
    (umask 077
     printf 'TRIAGE_RT_TOKEN=%s\nTRIAGE_RT_HUMAN_TOKEN=%s\n' \
        "$(sed -n 's/^AGENT=//p' <<<"$out")" "$(sed -n 's/^HUMAN=//p' <<<"$out")" > "$STATE_DIR/tokens")
    rm -f "$STATE_DIR"/rtdb.provisioned-v*
    cp "$DB_FILE" "$PRISTINE"
    say "provisioned; clean database kept at $PRISTINE"
}

write_env_file() {
    (umask 077
     { echo "# Written by scripts/live/rt.sh: the live RT the tests use."
       echo "TRIAGE_RT_BASE_URL=$BASE_URL"
       echo "TRIAGE_RT_AGENT_USER=triage-agent"
       echo "TRIAGE_RT_ASSIGNEE=alice"
       echo "TRIAGE_RT_WEBHOOK_SECRETS='[\"$(cat "$WEBHOOK_SECRET_FILE")\"]'"
       echo "RT_WEBHOOK_URL=$WEBHOOK_URL"
       cat "$STATE_DIR/tokens"; } > "$ENV_FILE.tmp")
    mv "$ENV_FILE.tmp" "$ENV_FILE"
}

rt_server_bin() {
    command -v rt-server 2>/dev/null || echo /usr/share/request-tracker5/libexec/rt-server
}

start() {
    if server_pid >/dev/null && answering; then
        say "already running (pid $(server_pid)) at $BASE_URL"
        return
    fi
    stop_server
    write_site_config
    write_env_file
    say "starting rt-server on 127.0.0.1:$PORT ($WORKERS workers; log $LOG_FILE)"
    # setsid: the server outlives this script and the CI step that ran it
    setsid nohup "$(rt_server_bin)" --host 127.0.0.1 --port "$PORT" --max-workers "$WORKERS" \
        >>"$LOG_FILE" 2>&1 < /dev/null &
    echo $! > "$PID_FILE"
    local waited=0
    until answering; do
        kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { tail -20 "$LOG_FILE" >&2; die "rt-server exited"; }
        (( waited++ < 180 )) || { tail -20 "$LOG_FILE" >&2; die "REST2 did not answer within 90 s"; }
        sleep 0.5
    done
    say "REST2 answers at $BASE_URL/REST/2.0/ (env for the tests: $ENV_FILE)"
}

stop_server() {
    local pid
    pid=$(server_pid) || return 0
    say "stopping rt-server (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    rm -f "$PID_FILE"
}

up() {
    local began=$SECONDS
    installed || install_rt
    command -v curl >/dev/null || apt-get install -y -q --no-install-recommends curl
    [[ -f $PRISTINE ]] || provision
    start
    say "ready in $((SECONDS - began)) s"
}

reset() {
    [[ -f $PRISTINE ]] || die "nothing to reset to: run '$0 up' first"
    stop_server
    say "restoring the freshly provisioned database"
    cp "$PRISTINE" "$DB_FILE"
    rm -f "$DB_FILE-journal" "$DB_FILE-wal" "$DB_FILE-shm"
    start
}

status() {
    installed && say "installed: $(dpkg-query -W -f='${Version}' request-tracker5)" || say "not installed"
    [[ -f $PRISTINE ]] && say "provisioned" || say "not provisioned"
    if server_pid >/dev/null && answering; then say "running at $BASE_URL (pid $(server_pid))"
    else say "not running"; return 1; fi
}

[[ $(id -u) == 0 ]] || die "run as root: it installs Debian packages and writes /etc/request-tracker5"
mkdir -p "$STATE_DIR"
case "${1:-up}" in
    up) up ;;
    reset) installed || install_rt; [[ -f $PRISTINE ]] || provision; reset ;;
    stop) stop_server ;;
    status) status ;;
    *) die "usage: $0 [up|reset|stop|status]" ;;
esac
