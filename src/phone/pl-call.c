/* pl-call.c
 *
 * A call's state machine. It owns one PlPeer (the webrtcbin pipeline, built
 * when the call is made or arrives) and one GCancellable, the single source
 * of truth for "this call is over": every callback that reaches the call
 * after a hop to the main context checks it first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-call"

#include "config.h"

#include "pl-call-private.h"
#include "pl-error.h"
#include "pl-peer.h"
#include "pl-resources.h"
#include "pl-sdp.h"

#include <string.h>

/* Per-call bounds on what a remote party can make us keep (issue 9), set
 * in PlMediaConfig (defaults PL_MEDIA_DEFAULT_MAX_*_CANDIDATE*).
 *
 * Measured on loopback (tests/security): webrtcbin with --ice-address sends
 * one host candidate per call (about 55 bytes, "candidate:1 1 UDP 2015363327
 * 127.0.0.1 PORT typ host"), aiortc 1.4 one per address (84 bytes, with
 * rtcp-mux), all in its SDP rather than trickled. Browsers send a few per
 * interface with extensions (generation, ufrag, network-id: about 150 bytes);
 * a multi-homed browser with IPv6, TCP and TURN stays well under 40.
 *
 * - max_pending_candidates (64): queued before the remote description is
 *   applied;
 * - max_remote_candidates (128): handed to webrtcbin in the whole call
 *   (webrtcbin keeps every one of them until the call is stable, libnice
 *   for ever);
 * - max_candidate_length (1024): bytes of one candidate line.
 *
 * Beyond them candidates are dropped, with one g_message per call. */


typedef struct {
  guint mline;
  char *candidate;
} PendingCandidate;

struct _PlCall
{
  GObject            parent_instance;

  char              *id;
  char              *peer_number;
  PlCallDirection    direction;
  PlCallState        state;
  char              *reason;
  GError            *error;           /* why it failed on our side */
  gboolean           ending;
  gboolean           muted;

  PlSignalingClient *signaling;
  PlPeer            *peer;
  GCancellable      *cancellable;

  gboolean           offer_sent;       /* the server knows this call */
  gboolean           remote_set;
  gboolean           answer_requested;
  char              *remote_offer;     /* until the pipeline can take it */
  char              *local_offer;      /* our own offer, to check the answer against */
  GArray            *pending_candidates;
  guint              remote_candidates; /* accepted so far, queued or given */
  guint              max_pending_candidates;
  guint              max_remote_candidates;
  guint              max_candidate_length;
  gboolean           candidates_dropped; /* told the log once */

  gint64             started_at;       /* dial, or answer */
  gint64             active_at;
  gint64             ending_at;
  double             setup_ms;
  double             first_audio_ms;
  double             duration_ms;
  double             teardown_ms;

  guint              ring_timeout_s;   /* outgoing, unanswered → "timeout" */
  guint              ring_timeout_id;
  guint              answer_timeout_id;
};

G_DEFINE_FINAL_TYPE (PlCall, pl_call, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_MUTED,
  N_PROPS
};

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_ENDING,
  SIGNAL_FIRST_AUDIO,
  SIGNAL_LEVEL,
  SIGNAL_INPUT_LEVEL,
  SIGNAL_MEDIA,
  SIGNAL_STATS,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

static double
ms_between (gint64 from,
            gint64 to)
{
  return (to - from) / 1000.0;
}

static void
set_state (PlCall     *self,
           PlCallState state)
{
  PlCallState old_state = self->state;

  if (old_state == state)
    return;

  self->state = state;

  g_object_ref (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, state, old_state);
  g_object_unref (self);
}

static void
send_message (PlCall   *self,
              PlMessage *msg)
{
  msg->call_id = g_strdup (self->id);
  if (!pl_signaling_client_send (self->signaling, msg))
    g_debug ("%s: not connected, %s not sent", self->id, pl_message_type_to_string (msg->type));
}

static void
pending_candidate_clear (gpointer data)
{
  PendingCandidate *pending = data;

  g_free (pending->candidate);
}

static void
flush_pending_candidates (PlCall *self)
{
  for (guint i = 0; i < self->pending_candidates->len; i++) {
    PendingCandidate *pending = &g_array_index (self->pending_candidates, PendingCandidate, i);

    pl_peer_add_ice_candidate (self->peer, pending->mline, pending->candidate);
  }
  g_array_set_size (self->pending_candidates, 0);
}

static void
peer_close_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PlCall) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!pl_peer_close_finish (PL_PEER (object), result, &error))
    g_warning ("%s: closing the pipeline: %s", self->id, error->message);

  self->teardown_ms = ms_between (self->ending_at, g_get_monotonic_time ());
  g_debug ("%s: pipeline in NULL after %.1f ms", self->id, self->teardown_ms);
  set_state (self, PL_CALL_STATE_ENDED);
}

/* Runs the teardown: @notify_remote sends `hangup` when the server knows the
 * call. @reason is the wire's: ours, or whatever string the other side sent. */
static void
end_call_full (PlCall     *self,
               const char *reason,
               gboolean    notify_remote)
{
  g_autoptr(PlMessage) msg = NULL;

  if (self->ending)
    return;

  self->ending = TRUE;
  self->ending_at = g_get_monotonic_time ();
  self->reason = g_strdup (reason);
  self->duration_ms = self->active_at ? ms_between (self->active_at, self->ending_at) : 0;
  g_debug ("%s: ending (%s) in state %s", self->id, reason, pl_call_state_to_string (self->state));

  /* 1. Late callbacks of webrtcbin, promises and idles see this. */
  g_cancellable_cancel (self->cancellable);
  /* 2. Our own sources go before NULL. */
  g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  g_array_set_size (self->pending_candidates, 0);

  if (notify_remote && (self->direction == PL_CALL_DIRECTION_INCOMING || self->offer_sent)) {
    msg = pl_message_new (PL_MESSAGE_HANGUP);
    msg->reason = g_strdup (reason);
    send_message (self, msg);
  }

  /* The line forgets the call_id now: late messages for it are dropped. */
  g_object_ref (self);
  g_signal_emit (self, signals[SIGNAL_ENDING], 0, reason);

  /* 3.–6. in pl_peer_close_async (); of 5., "remove the call from the table;
   * tell signaling" was done above, before NULL, as the protocol asks
   * (docs/ARCHITECTURE.md, "One call, from dial to NULL"). */
  if (self->peer != NULL)
    pl_peer_close_async (self->peer, peer_close_cb, g_object_ref (self));
  else
    set_state (self, PL_CALL_STATE_ENDED);
  g_object_unref (self);
}

static void
end_call (PlCall         *self,
          PlHangupReason  reason,
          gboolean        notify_remote)
{
  end_call_full (self, pl_hangup_reason_to_string (reason), notify_remote);
}

static gboolean
on_ring_timeout (gpointer user_data)
{
  PlCall *self = user_data;

  self->ring_timeout_id = 0;
  end_call (self, PL_HANGUP_TIMEOUT, TRUE);

  return G_SOURCE_REMOVE;
}

static gboolean
on_answer_timeout (gpointer user_data)
{
  PlCall *self = user_data;
  g_autoptr(GError) error = NULL;

  self->answer_timeout_id = 0;
  if (!pl_call_answer (self, &error))
    g_debug ("%s: auto-answer: %s", self->id, error->message);

  return G_SOURCE_REMOVE;
}

static void
on_peer_local_description (PlPeer     *peer,
                           const char *type,
                           const char *sdp,
                           gint64      when,
                           gpointer    user_data)
{
  PlCall *self = user_data;
  g_autoptr(PlMessage) msg = NULL;

  g_debug ("%s: %s ready after %.1f ms", self->id, type, ms_between (self->started_at, when));

  if (self->direction == PL_CALL_DIRECTION_OUTGOING) {
    g_free (self->local_offer);
    self->local_offer = g_strdup (sdp);
    msg = pl_message_new (PL_MESSAGE_CALL);
    msg->to = g_strdup (self->peer_number);
    msg->sdp = g_strdup (sdp);
    send_message (self, msg);
    self->offer_sent = TRUE;
    if (self->ring_timeout_s > 0)
      self->ring_timeout_id = g_timeout_add_seconds (self->ring_timeout_s, on_ring_timeout, self);
    set_state (self, PL_CALL_STATE_DIALING);
  } else {
    msg = pl_message_new (PL_MESSAGE_ACCEPT);
    msg->sdp = g_strdup (sdp);
    send_message (self, msg);
    set_state (self, PL_CALL_STATE_CONNECTING);
  }
}

static void
on_peer_remote_description_set (PlPeer  *peer,
                                gint64   when,
                                gpointer user_data)
{
  PlCall *self = user_data;

  g_debug ("%s: remote description set after %.1f ms", self->id,
           ms_between (self->started_at, when));
  self->remote_set = TRUE;
  flush_pending_candidates (self);

  if (self->direction == PL_CALL_DIRECTION_OUTGOING)
    set_state (self, PL_CALL_STATE_CONNECTING);
  else if (self->answer_requested)
    pl_peer_create_answer (self->peer);
}

static void
on_peer_ice_candidate (PlPeer     *peer,
                       guint       mline,
                       const char *candidate,
                       gpointer    user_data)
{
  PlCall *self = user_data;
  g_autoptr(PlMessage) msg = pl_message_new (PL_MESSAGE_ICE);

  msg->candidate = g_strdup (candidate);
  msg->sdp_mline_index = *candidate != '\0' ? (int) mline : -1;
  send_message (self, msg);
}

static void
on_peer_connection_state (PlPeer  *peer,
                          guint    state,
                          gint64   when,
                          gpointer user_data)
{
  PlCall *self = user_data;

  switch ((GstWebRTCPeerConnectionState) state) {
  case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTING:
    g_debug ("%s: connecting after %.1f ms", self->id, ms_between (self->started_at, when));
    break;

  case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
    if (self->state == PL_CALL_STATE_ACTIVE)
      break;
    self->active_at = when;
    self->setup_ms = ms_between (self->started_at, when);
    g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
    set_state (self, PL_CALL_STATE_ACTIVE);
    break;

  case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
    end_call (self, PL_HANGUP_FAILED, TRUE);
    break;

  case GST_WEBRTC_PEER_CONNECTION_STATE_NEW:
  case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
  case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
  default:
    break;
  }
}

static void
on_peer_first_audio (PlPeer  *peer,
                     gint64   when,
                     gpointer user_data)
{
  PlCall *self = user_data;

  self->first_audio_ms = ms_between (self->started_at, when);
  g_signal_emit (self, signals[SIGNAL_FIRST_AUDIO], 0, self->first_audio_ms);
}

static void
on_peer_level (PlPeer  *peer,
               double   level_db,
               gpointer user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_LEVEL], 0, level_db);
}

static void
on_peer_media (PlPeer  *peer,
               double   frequency_hz,
               double   level_db,
               gpointer user_data)
{
  PlCall *self = user_data;

  if (self->state == PL_CALL_STATE_ACTIVE)
    g_signal_emit (self, signals[SIGNAL_MEDIA], 0, frequency_hz, level_db);
}

static void
on_peer_stats (PlPeer      *peer,
               PlCallStats *stats,
               gpointer     user_data)
{
  g_signal_emit (user_data, signals[SIGNAL_STATS], 0, stats);
}

/* The one way a call fails on our side: @error (taken) says why, kept for
 * pl_call_get_error () when it is the first. */
static void
fail_call (PlCall *self,
           GError *error)
{
  g_message ("call %s with %s failed: %s", self->id, self->peer_number, error->message);
  if (self->error == NULL)
    self->error = error;
  else
    g_error_free (error);
  end_call (self, PL_HANGUP_FAILED, TRUE);
}

static void
on_peer_failed (PlPeer       *peer,
                const GError *error,
                gpointer      user_data)
{
  fail_call (user_data, g_error_copy (error));
}

/* Whether a remote candidate may be kept, within the call's bounds. */
static gboolean
accept_remote_candidate (PlCall     *self,
                         const char *candidate)
{
  g_autofree char *why = NULL;

  /* End of candidates costs nothing. */
  if (*candidate == '\0')
    return TRUE;

  if (strlen (candidate) > self->max_candidate_length)
    why = g_strdup_printf ("longer than %u bytes", self->max_candidate_length);
  else if (!pl_sdp_candidate_is_usable (candidate))
    return FALSE;   /* malformed or mDNS: pl-peer would drop it too */
  else if (self->remote_candidates >= self->max_remote_candidates)
    why = g_strdup_printf ("more than %u in the call", self->max_remote_candidates);
  else if (!self->remote_set && self->pending_candidates->len >= self->max_pending_candidates)
    why = g_strdup_printf ("more than %u before the remote description",
                           self->max_pending_candidates);

  if (why != NULL) {
    if (!self->candidates_dropped)
      g_message ("call %s with %s: dropping remote ICE candidates (%s)", self->id,
                 self->peer_number, why);
    self->candidates_dropped = TRUE;
    return FALSE;
  }

  self->remote_candidates++;
  return TRUE;
}

static void
pl_call_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  PlCall *self = PL_CALL (object);

  switch (prop_id) {
  case PROP_STATE:
    g_value_set_int (value, self->state);
    break;
  case PROP_MUTED:
    g_value_set_boolean (value, self->muted);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_call_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  PlCall *self = PL_CALL (object);

  switch (prop_id) {
  case PROP_MUTED:
    pl_call_set_muted (self, g_value_get_boolean (value));
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_call_dispose (GObject *object)
{
  PlCall *self = PL_CALL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  if (self->peer != NULL)
    g_signal_handlers_disconnect_by_data (self->peer, self);
  g_clear_object (&self->peer);
  g_clear_object (&self->signaling);

  G_OBJECT_CLASS (pl_call_parent_class)->dispose (object);
}

static void
pl_call_finalize (GObject *object)
{
  PlCall *self = PL_CALL (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->pending_candidates, g_array_unref);
  g_free (self->id);
  g_free (self->peer_number);
  g_free (self->reason);
  g_clear_error (&self->error);
  g_free (self->remote_offer);
  g_free (self->local_offer);
  _pl_resources_add (&_pl_resources_calls, -1);

  G_OBJECT_CLASS (pl_call_parent_class)->finalize (object);
}

static void
pl_call_class_init (PlCallClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = pl_call_get_property;
  object_class->set_property = pl_call_set_property;
  object_class->dispose = pl_call_dispose;
  object_class->finalize = pl_call_finalize;

  props[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, PL_CALL_STATE_NEW, PL_CALL_STATE_ENDED,
                      PL_CALL_STATE_NEW,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_MUTED] =
    g_param_spec_boolean ("muted", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  /* (new state, old state) */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  /* (reason) — the hang-up started; ENDED follows once the pipeline is in NULL. */
  signals[SIGNAL_ENDING] =
    g_signal_new ("ending", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* (ms from dial or answer) */
  signals[SIGNAL_FIRST_AUDIO] =
    g_signal_new ("first-audio", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /* (dB) the level of what the call hears, ten times a second */
  signals[SIGNAL_LEVEL] =
    g_signal_new ("level", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /* (dB) the level of what the call sends (its source; nothing while muted),
   * ten times a second */
  signals[SIGNAL_INPUT_LEVEL] =
    g_signal_new ("input-level", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /* (Hz, dB) dominant frequency and level, once a second with analysis on */
  signals[SIGNAL_MEDIA] =
    g_signal_new ("media", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  /* (const PlCallStats *) */
  signals[SIGNAL_STATS] =
    g_signal_new ("stats", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
pl_call_init (PlCall *self)
{
  _pl_resources_add (&_pl_resources_calls, 1);
  self->cancellable = g_cancellable_new ();
  self->pending_candidates = g_array_new (FALSE, FALSE, sizeof (PendingCandidate));
  g_array_set_clear_func (self->pending_candidates, pending_candidate_clear);
  self->setup_ms = -1;
  self->first_audio_ms = -1;
  self->duration_ms = -1;
  self->teardown_ms = -1;
}

static void
peer_started_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PlCall) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!pl_peer_start_finish (PL_PEER (object), result, &error)) {
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail_call (self, g_steal_pointer (&error));
    return;
  }

  g_debug ("%s: pipeline playing after %.1f ms", self->id,
           ms_between (self->started_at, g_get_monotonic_time ()));

  if (self->direction == PL_CALL_DIRECTION_OUTGOING) {
    pl_peer_create_offer (self->peer);
  } else {
    g_autofree char *offer = g_steal_pointer (&self->remote_offer);

    pl_peer_set_remote_description (self->peer, GST_WEBRTC_SDP_TYPE_OFFER, offer);
  }
}

/* The shared source cannot go on: a call without its sound fails. */
static void
on_source_failed (PlSharedSource *source,
                  const GError   *error,
                  gpointer        user_data)
{
  PlCall *self = user_data;

  if (self->ending)
    return;

  fail_call (self, g_error_copy (error));
}

static void
on_source_level (PlSharedSource *source,
                 double          level_db,
                 gpointer        user_data)
{
  PlCall *self = user_data;

  /* What this call sends: nothing while muted. */
  if (!self->ending && !self->muted)
    g_signal_emit (self, signals[SIGNAL_INPUT_LEVEL], 0, level_db);
}

/* The pipeline is built and started on the worker pool; the offer (or the
 * remote offer) follows in peer_started_cb (). */
static void
start_peer (PlCall              *self,
            const PlMediaConfig *config,
            PlSharedSource      *source)
{
  self->max_pending_candidates = config->max_pending_candidates;
  self->max_remote_candidates = config->max_remote_candidates;
  self->max_candidate_length = config->max_candidate_length;
  self->peer = pl_peer_new (self->id, self->peer_number, self->cancellable, config, source);
  g_signal_connect_object (source, "failed", G_CALLBACK (on_source_failed), self, 0);
  g_signal_connect_object (source, "level", G_CALLBACK (on_source_level), self, 0);

  g_signal_connect (self->peer, "local-description", G_CALLBACK (on_peer_local_description), self);
  g_signal_connect (self->peer, "remote-description-set",
                    G_CALLBACK (on_peer_remote_description_set), self);
  g_signal_connect (self->peer, "ice-candidate", G_CALLBACK (on_peer_ice_candidate), self);
  g_signal_connect (self->peer, "connection-state", G_CALLBACK (on_peer_connection_state), self);
  g_signal_connect (self->peer, "first-audio", G_CALLBACK (on_peer_first_audio), self);
  g_signal_connect (self->peer, "level", G_CALLBACK (on_peer_level), self);
  g_signal_connect (self->peer, "media", G_CALLBACK (on_peer_media), self);
  g_signal_connect (self->peer, "stats", G_CALLBACK (on_peer_stats), self);
  g_signal_connect (self->peer, "failed", G_CALLBACK (on_peer_failed), self);

  pl_peer_start_async (self->peer, peer_started_cb, g_object_ref (self));
}

PlCall *
_pl_call_new_outgoing (PlSignalingClient   *signaling,
                       const char          *peer,
                       const PlMediaConfig *config,
                       PlSharedSource      *source,
                       guint                ring_timeout_s,
                       gint64               dialed_at)
{
  PlCall *self;

  g_return_val_if_fail (PL_IS_SIGNALING_CLIENT (signaling), NULL);
  g_return_val_if_fail (pl_number_is_valid (peer), NULL);

  self = g_object_new (PL_TYPE_CALL, NULL);
  self->id = pl_call_id_new ();
  self->peer_number = g_strdup (peer);
  self->direction = PL_CALL_DIRECTION_OUTGOING;
  self->signaling = g_object_ref (signaling);
  self->started_at = dialed_at;
  self->ring_timeout_s = ring_timeout_s;

  start_peer (self, config, source);

  return self;
}

PlCall *
_pl_call_new_incoming (PlSignalingClient   *signaling,
                       const PlMessage     *call_msg,
                       const PlMediaConfig *config,
                       PlSharedSource      *source)
{
  g_autoptr(PlMessage) ringing = NULL;
  PlCall *self;

  g_return_val_if_fail (PL_IS_SIGNALING_CLIENT (signaling), NULL);
  g_return_val_if_fail (call_msg != NULL && call_msg->type == PL_MESSAGE_CALL, NULL);

  self = g_object_new (PL_TYPE_CALL, NULL);
  self->id = g_strdup (call_msg->call_id);
  self->peer_number = g_strdup (call_msg->from);
  self->direction = PL_CALL_DIRECTION_INCOMING;
  self->signaling = g_object_ref (signaling);
  self->state = PL_CALL_STATE_INCOMING;
  self->started_at = g_get_monotonic_time ();
  self->remote_offer = g_strdup (call_msg->sdp);

  start_peer (self, config, source);

  /* We alert our user from now on. */
  ringing = pl_message_new (PL_MESSAGE_RINGING);
  send_message (self, ringing);

  return self;
}

void
_pl_call_handle_message (PlCall          *self,
                         const PlMessage *msg)
{
  g_return_if_fail (PL_IS_CALL (self));
  g_return_if_fail (msg != NULL);

  if (self->ending) {
    g_debug ("%s: dropping %s, the call is ending", self->id, msg->type_name);
    return;
  }

  switch (msg->type) {
  case PL_MESSAGE_RINGING:
    if (self->direction == PL_CALL_DIRECTION_OUTGOING && self->state == PL_CALL_STATE_DIALING)
      set_state (self, PL_CALL_STATE_RINGING);
    break;

  case PL_MESSAGE_ACCEPT:
    if (self->direction != PL_CALL_DIRECTION_OUTGOING ||
        (self->state != PL_CALL_STATE_DIALING && self->state != PL_CALL_STATE_RINGING)) {
      g_debug ("%s: ignoring accept in state %s", self->id, pl_call_state_to_string (self->state));
      break;
    }
    g_clear_handle_id (&self->ring_timeout_id, g_source_remove);
    {
      GError *error = NULL;

      /* An answer that does not take our Opus would leave the call in
       * `connecting` with no audio: fail it now, saying why. */
      if (!pl_sdp_check_answer (self->local_offer, msg->sdp, &error)) {
        fail_call (self, error);
        break;
      }
    }
    pl_peer_set_remote_description (self->peer, GST_WEBRTC_SDP_TYPE_ANSWER, msg->sdp);
    break;

  case PL_MESSAGE_ICE:
    if (msg->candidate == NULL || !accept_remote_candidate (self, msg->candidate))
      break;
    if (!self->remote_set) {
      PendingCandidate pending = { MAX (msg->sdp_mline_index, 0), g_strdup (msg->candidate) };

      g_array_append_val (self->pending_candidates, pending);
    } else {
      pl_peer_add_ice_candidate (self->peer, MAX (msg->sdp_mline_index, 0), msg->candidate);
    }
    break;

  case PL_MESSAGE_HANGUP:
    end_call_full (self, msg->reason, FALSE);
    break;

  case PL_MESSAGE_ERROR:
    if (g_strcmp0 (msg->code, "rate-limited") == 0) {
      /* The server dropped a message of this call (and maybe more after
       * it). An active call has its media: keep it. One still being set up
       * may now wait forever: end it, and say so to the other side. */
      if (self->state != PL_CALL_STATE_ACTIVE)
        end_call (self, PL_HANGUP_FAILED, TRUE);
      break;
    }
    /* busy, unknown-call: the server refused this call. */
    {
      PlProtocolError code;
      gboolean busy = pl_protocol_error_from_string (msg->code, &code) &&
                      code == PL_PROTOCOL_ERROR_BUSY;

      end_call (self, busy ? PL_HANGUP_BUSY : PL_HANGUP_FAILED, FALSE);
    }
    break;

  case PL_MESSAGE_UNKNOWN:
  case PL_MESSAGE_REGISTER:
  case PL_MESSAGE_REGISTERED:
  case PL_MESSAGE_CALL:
  case PL_MESSAGE_PEERS:
  default:
    g_debug ("%s: ignoring %s", self->id, msg->type_name);
    break;
  }
}

void
_pl_call_lost (PlCall         *self,
               PlHangupReason  reason)
{
  g_return_if_fail (PL_IS_CALL (self));

  end_call (self, reason, FALSE);
}

const char *
pl_call_get_id (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), NULL);

  return self->id;
}

const char *
pl_call_get_peer (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), NULL);

  return self->peer_number;
}

PlCallDirection
pl_call_get_direction (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), PL_CALL_DIRECTION_OUTGOING);

  return self->direction;
}

PlCallState
pl_call_get_state (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), PL_CALL_STATE_ENDED);

  return self->state;
}

gboolean
pl_call_is_ending (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), TRUE);

  return self->ending;
}

const char *
pl_call_get_reason (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), NULL);

  return self->reason;
}

const GError *
pl_call_get_error (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), NULL);

  return self->error;
}

double
pl_call_get_setup_ms (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), -1);

  return self->setup_ms;
}

double
pl_call_get_duration_ms (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), -1);

  return self->duration_ms;
}

double
pl_call_get_teardown_ms (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), -1);

  return self->teardown_ms;
}

gboolean
pl_call_get_muted (PlCall *self)
{
  g_return_val_if_fail (PL_IS_CALL (self), FALSE);

  return self->muted;
}

void
pl_call_set_muted (PlCall  *self,
                   gboolean muted)
{
  g_return_if_fail (PL_IS_CALL (self));

  muted = !!muted;
  if (self->muted == muted)
    return;

  self->muted = muted;
  if (self->peer != NULL && !self->ending)
    pl_peer_set_muted (self->peer, muted);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MUTED]);
}

gboolean
pl_call_answer (PlCall  *self,
                GError **error)
{
  g_return_val_if_fail (PL_IS_CALL (self), FALSE);

  if (self->direction != PL_CALL_DIRECTION_INCOMING || self->state != PL_CALL_STATE_INCOMING ||
      self->ending || self->answer_requested) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "the call with %s is not waiting for an answer", self->peer_number);
    return FALSE;
  }

  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  self->answer_requested = TRUE;
  self->started_at = g_get_monotonic_time ();
  if (self->remote_set)
    pl_peer_create_answer (self->peer);

  return TRUE;
}

void
pl_call_answer_after (PlCall *self,
                      guint   delay_ms)
{
  g_return_if_fail (PL_IS_CALL (self));

  if (self->ending || self->direction != PL_CALL_DIRECTION_INCOMING)
    return;

  g_clear_handle_id (&self->answer_timeout_id, g_source_remove);
  self->answer_timeout_id = g_timeout_add (delay_ms, on_answer_timeout, self);
}

void
pl_call_hang_up (PlCall         *self,
                 PlHangupReason  reason)
{
  g_return_if_fail (PL_IS_CALL (self));

  end_call (self, reason, TRUE);
}

void
pl_call_request_stats (PlCall *self)
{
  g_return_if_fail (PL_IS_CALL (self));

  if (self->peer != NULL && !self->ending)
    pl_peer_request_stats (self->peer);
}

char *
pl_call_dump_dot (PlCall  *self,
                  GError **error)
{
  g_return_val_if_fail (PL_IS_CALL (self), NULL);

  if (self->peer == NULL || self->state == PL_CALL_STATE_ENDED) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "the call with %s has no live pipeline", self->peer_number);
    return NULL;
  }

  return pl_peer_dump_dot (self->peer, error);
}

const char *
pl_call_state_to_string (PlCallState state)
{
  switch (state) {
  case PL_CALL_STATE_NEW:
  case PL_CALL_STATE_DIALING:
    return "dialing";
  case PL_CALL_STATE_RINGING:
    return "ringing";
  case PL_CALL_STATE_INCOMING:
    return "incoming";
  case PL_CALL_STATE_CONNECTING:
    return "connecting";
  case PL_CALL_STATE_ACTIVE:
    return "active";
  case PL_CALL_STATE_ENDED:
    return "ended";
  default:
    g_return_val_if_reached ("ended");
  }
}

const char *
pl_call_direction_to_string (PlCallDirection direction)
{
  return direction == PL_CALL_DIRECTION_INCOMING ? "incoming" : "outgoing";
}
