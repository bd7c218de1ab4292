/* pl-peer.c
 *
 * One call's media: a GstPipeline of its own holding
 *
 *   proxysrc (fed by the shared source, see pl-shared-source.c) ! webrtcbin
 *   webrtcbin ! audio-receive.pipeline ! sink-*.pipeline
 *
 * built on the worker pool when the call is made (or arrives), and never
 * reused.
 *
 * Threads. webrtcbin calls us on its "pc" thread (promises, on-ice-candidate,
 * state notifies) and on streaming threads (pad-added, probes). None of those
 * callbacks touch the PlPeer: each copies what it needs into a PeerEvent and
 * posts it to the main context with an idle source. There the event is
 * applied only if the peer still exists, its call is not cancelled, and the
 * call_id matches (docs/ARCHITECTURE.md, "How a webrtcbin callback reaches
 * the main thread"; docs/webrtcbin-1.22.md, "Threads"). A hung-up call's
 * pending work is dropped, never run.
 *
 * The bug numbers ("bug 13") and teardown steps ("teardown step 6") cited
 * here are those of docs/webrtcbin-1.22.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-peer"

#include "config.h"

#include "pl-peer.h"
#include "pl-phone-error.h"
#include "pl-resources.h"
#include "pl-sdp.h"
#include "pl-shared-source.h"
#include "pl-teardown.h"
#include "pl-worker.h"

#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <errno.h>
#include <string.h>

/* How long a drain of webrtcbin's operation queue may take before NULL. */
#define DRAIN_TIMEOUT_MS 2000
/* How long a pipeline whose ICE gathering had not completed is kept alive
 * after NULL (docs/webrtcbin-1.22.md, bug 2 and teardown step 6). */
#define GATHERING_GRACE_MS 1000
/* How long a recording may take to write its last page before NULL. */
#define RECORD_EOS_TIMEOUT_MS 1000

/* State shared with webrtcbin's threads. It outlives the handlers connected
 * with it (they hold a ref), and holds only a weak ref on the PlPeer. */
typedef struct {
  gatomicrefcount ref_count;
  GWeakRef        peer_wr;
  GCancellable   *cancellable;
  char           *call_id;
  GMainContext   *context;
  GstElement     *receive_bin;      /* added to the pipeline on pad-added */
  int             receive_linked;   /* atomic */
  int             first_audio_seen; /* atomic */
  int             gathering_done;   /* atomic */
  int             muted;            /* atomic */
  GBytes         *silence;          /* sent in place of each frame while muted */

  /* Peer authentication: the media gate opens only once the certificate the
   * peer showed in the DTLS handshake matched the fingerprint of its SDP
   * (docs/webrtcbin-1.22.md, bug 21). */
  int             verified;         /* atomic: 0 not yet, 1 verified, -1 refused */
  GMutex          verify_lock;      /* guards the two below */
  char           *remote_sdp;       /* what set-remote-description was given */
  char           *pending_pem;      /* a certificate seen before remote_sdp */
} Shared;

typedef enum {
  EVENT_OFFER,
  EVENT_ANSWER,
  EVENT_REMOTE_SET,
  EVENT_ICE_CANDIDATE,
  EVENT_GATHERING_DONE,
  EVENT_CONNECTION_STATE,
  EVENT_FIRST_AUDIO,
  EVENT_STATS,
  EVENT_FAILED,
} EventKind;

typedef struct {
  Shared       *shared;
  EventKind     kind;
  gint64        when;       /* g_get_monotonic_time () where it happened */
  char         *text;       /* SDP, candidate, or error message */
  guint         number;     /* mline index, connection state */
  GstStructure *structure;  /* stats */
} PeerEvent;

struct _PlPeer
{
  GObject        parent_instance;

  char          *call_id;
  char          *name;
  GCancellable  *cancellable;
  PlMediaConfig *config;
  int            payload_type;

  Shared        *shared;
  GstElement    *pipeline;
  GstElement    *webrtc;
  GstElement    *spectrum;
  GstElement    *source;         /* this call's end of the shared source (proxysrc); unowned, like webrtc */
  guint          bus_watch_id;
  double         last_level_db;

  PlSharedSource *shared_source; /* what the call sends, shared with others */
  PlSharedBranch *branch;        /* this call's tap on it */

  gboolean       building;       /* the worker pool is building and starting it */
  gboolean       started;
  GTask         *close_task;     /* while closing */
  guint          record_timeout_id;
  guint          drain_timeout_id;
  gboolean       closed;
};

G_DEFINE_FINAL_TYPE (PlPeer, pl_peer, G_TYPE_OBJECT)

enum {
  SIGNAL_LOCAL_DESCRIPTION,
  SIGNAL_REMOTE_DESCRIPTION_SET,
  SIGNAL_ICE_CANDIDATE,
  SIGNAL_CONNECTION_STATE,
  SIGNAL_FIRST_AUDIO,
  SIGNAL_LEVEL,
  SIGNAL_MEDIA,
  SIGNAL_STATS,
  SIGNAL_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The main context: the call cannot go on (@code, a PlCallError). */
static void
emit_failed (PlPeer      *self,
             PlCallError  code,
             const char  *message)
{
  g_autoptr(GError) error = g_error_new_literal (PL_CALL_ERROR, code, message);

  g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
}

static Shared *
shared_ref (Shared *shared)
{
  g_atomic_ref_count_inc (&shared->ref_count);
  return shared;
}

static void
shared_unref (gpointer data)
{
  Shared *shared = data;

  if (!g_atomic_ref_count_dec (&shared->ref_count))
    return;

  g_weak_ref_clear (&shared->peer_wr);
  g_clear_object (&shared->cancellable);
  g_clear_pointer (&shared->context, g_main_context_unref);
  gst_clear_object (&shared->receive_bin);
  g_clear_pointer (&shared->silence, g_bytes_unref);
  g_mutex_clear (&shared->verify_lock);
  g_free (shared->remote_sdp);
  g_free (shared->pending_pem);
  g_free (shared->call_id);
  g_free (shared);
}

static void
shared_unref_closure (gpointer  data,
                      GClosure *closure)
{
  shared_unref (data);
}

static void
peer_event_free (gpointer data)
{
  PeerEvent *event = data;

  g_clear_pointer (&event->shared, shared_unref);
  g_clear_pointer (&event->structure, gst_structure_free);
  g_free (event->text);
  g_free (event);
}

static void dispatch_event (PlPeer    *self,
                            PeerEvent *event);

/* Runs on the main context. */
static gboolean
on_event_idle (gpointer data)
{
  PeerEvent *event = data;
  g_autoptr(PlPeer) self = g_weak_ref_get (&event->shared->peer_wr);

  if (self == NULL) {
    g_debug ("dropping event %d: the call is gone", event->kind);
    return G_SOURCE_REMOVE;
  }
  if (g_cancellable_is_cancelled (event->shared->cancellable)) {
    g_debug ("dropping event %d of cancelled call %s", event->kind, event->shared->call_id);
    return G_SOURCE_REMOVE;
  }
  /* A guard: a PlPeer never changes its call_id (docs/ARCHITECTURE.md,
   * "How a webrtcbin callback reaches the main thread"). Should that rule
   * ever break, events are dropped rather than given to another call. */
  if (g_strcmp0 (self->call_id, event->shared->call_id) != 0) {
    g_debug ("dropping event %d of call %s: now %s", event->kind,
             event->shared->call_id, self->call_id);
    return G_SOURCE_REMOVE;
  }

  dispatch_event (self, event);

  return G_SOURCE_REMOVE;
}

/* Any thread. Takes ownership of @event. */
static void
post_event (PeerEvent *event)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, on_event_idle, event, peer_event_free);
  g_source_set_static_name (source, "[partyline] peer event");
  g_source_attach (source, event->shared->context);
}

static PeerEvent *
peer_event_new (Shared   *shared,
                EventKind kind)
{
  PeerEvent *event = g_new0 (PeerEvent, 1);

  event->shared = shared_ref (shared);
  event->kind = kind;
  event->when = g_get_monotonic_time ();

  return event;
}

/* @code is a PlCallError. */
static void
post_failure (Shared     *shared,
              PlCallError code,
              const char *message)
{
  PeerEvent *event = peer_event_new (shared, EVENT_FAILED);

  event->number = code;
  event->text = g_strdup (message);
  post_event (event);
}

/* Any thread, with verify_lock held. Pure computation: no GStreamer object
 * is touched. A refusal is final, and posted once. */
static void
verify_locked (Shared     *shared,
               const char *pem)
{
  g_autoptr(GError) error = NULL;

  if (pl_sdp_verify_certificate (shared->remote_sdp, pem, &error)) {
    if (g_atomic_int_compare_and_exchange (&shared->verified, 0, 1))
      g_debug ("%s: the peer's DTLS certificate matches its fingerprint", shared->call_id);
    return;
  }

  if (g_atomic_int_get (&shared->verified) != -1) {
    g_atomic_int_set (&shared->verified, -1);
    post_failure (shared, PL_CALL_ERROR_PEER_AUTHENTICATION, error->message);
  }
}

/* The DTLS thread, inside OpenSSL's verify callback (dtlsdec's peer-pem is
 * set there, before the handshake ends and before any SRTP key exists).
 * Reading peer-pem of the element that is notifying is safe; the transport's
 * proxies of it are not (docs/webrtcbin-1.22.md, bug 4), so they are never used. */
static void
on_dtls_peer_pem (GObject    *dtlsdec,
                  GParamSpec *pspec,
                  gpointer    user_data)
{
  Shared *shared = user_data;
  g_autofree char *pem = NULL;

  if (g_cancellable_is_cancelled (shared->cancellable))
    return;

  g_object_get (dtlsdec, "peer-pem", &pem, NULL);
  if (pem == NULL)
    return;

  g_mutex_lock (&shared->verify_lock);
  if (shared->remote_sdp == NULL) {
    /* Verified as soon as the remote description is known. */
    g_free (shared->pending_pem);
    shared->pending_pem = g_steal_pointer (&pem);
  } else {
    verify_locked (shared, pem);
  }
  g_mutex_unlock (&shared->verify_lock);
}

/* GStreamer 1.22.0 work-around (docs/webrtcbin-1.22.md, bug 19): srtpdec
 * must never set up its RTCP output by itself.
 *
 * With rtcp-mux, RTCP reaches srtpdec on its rtp_sink pad with the RTP;
 * its rtcp_sink pad gets no events. So before it pushes the call's first
 * RTCP packet out of rtcp_src, srtpdec gives rtcp_src its stream-start and
 * segment itself, copied from rtp_src (gstsrtpdec.c
 * gst_srtp_dec_push_early_events ()). The first RTCP packet comes about a
 * second into the call. If the call is being torn down at that moment and
 * rtp_src is already deactivated (which drops its sticky events), there is
 * nothing to copy: srtpdec then makes a stream id with
 * gst_pad_create_stream_id (), which refuses an element with two sink pads
 * ("assertion 'parent->numsinkpads <= 1' failed"), or pushes without a
 * segment ("Got data flow before segment event"): a critical or a warning
 * on the receiving thread, fatal under G_DEBUG=fatal-warnings. Seen in the
 * races torture under ASan, hang-ups ~0.5 s after the call became active.
 *
 * This probe sees the first packet on rtp_sink, whose stream-start and
 * segment have just arrived, and sends rtcp_sink the same two (the stream
 * id srtpdec would have made, "<id>/rtcp"). srtpdec forwards them to
 * rtcp_src and marks RTCP as set up, so it never does it again. */
static GstPadProbeReturn
on_srtpdec_first_buffer (GstPad          *rtp_sink,
                         GstPadProbeInfo *info,
                         gpointer         user_data)
{
  GstElement *srtpdec = user_data;
  g_autoptr(GstPad) rtcp_sink = gst_element_get_static_pad (srtpdec, "rtcp_sink");
  g_autoptr(GstEvent) stream_start = NULL;
  g_autoptr(GstEvent) segment = NULL;
  const char *stream_id;
  g_autofree char *rtcp_stream_id = NULL;

  stream_start = gst_pad_get_sticky_event (rtp_sink, GST_EVENT_STREAM_START, 0);
  segment = gst_pad_get_sticky_event (rtp_sink, GST_EVENT_SEGMENT, 0);
  if (rtcp_sink == NULL || gst_pad_is_linked (rtcp_sink) ||
      stream_start == NULL || segment == NULL)
    return GST_PAD_PROBE_REMOVE;

  gst_event_parse_stream_start (stream_start, &stream_id);
  rtcp_stream_id = g_strdup_printf ("%s/rtcp", stream_id);
  gst_pad_send_event (rtcp_sink, gst_event_new_stream_start (rtcp_stream_id));
  gst_pad_send_event (rtcp_sink, g_steal_pointer (&segment));

  return GST_PAD_PROBE_REMOVE;
}

/* The probe does not outlive @element, which owns the pad: no ref. */
static void
add_static_pad_probe (GstElement          *element,
                      const char          *pad_name,
                      GstPadProbeType      mask,
                      GstPadProbeCallback  callback)
{
  g_autoptr(GstPad) pad = gst_element_get_static_pad (element, pad_name);

  if (pad != NULL)
    gst_pad_add_probe (pad, mask, callback, element, NULL);
}

/* The transport's receiving thread (nicesrc), before dtlsdec. GStreamer
 * 1.22.0 work-around (docs/webrtcbin-1.22.md, bug 23): once the call is hung up,
 * nothing more reaches the DTLS connection. While the pipeline goes to NULL
 * its sending side stops first; the connection's sends then fail, and
 * gst_dtls_connection_process () returns early with the datagram it was
 * given still set as its input. The next datagram trips "runtime check
 * failed: (!priv->bio_buffer)" (fatal in the tests), and a retransmission
 * timer's handshake step would read the stale pointer. What arrives after
 * the hang-up is of no use to anyone. */
static GstPadProbeReturn
on_dtls_receive (GstPad          *pad,
                 GstPadProbeInfo *info,
                 gpointer         user_data)
{
  Shared *shared = user_data;

  return g_cancellable_is_cancelled (shared->cancellable) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* A streaming thread, before a jitter buffer's RTCP. GStreamer 1.22.0
 * work-around (docs/webrtcbin-1.22.md, bug 25). When a new SSRC shows up
 * while the pipeline goes down, rtpbin makes its jitter buffer in rtpbin's
 * target state, READY, and only then refuses new streams; the buffer's
 * sink_rtcp pad is active anyway. A sender report that comes before any RTP
 * is kept as the buffer's last_sr, dropped only on PAUSED_TO_READY (which
 * this buffer never goes through again) or the next RTP, never in finalize:
 * one received packet lost for each. Below PAUSED a jitter buffer has no
 * use for RTCP; its pads should not be taking data at all. */
static GstPadProbeReturn
on_jitterbuffer_rtcp (GstPad          *pad,
                      GstPadProbeInfo *info,
                      gpointer         user_data)
{
  GstElement *jitterbuffer = user_data;
  GstState state;

  GST_OBJECT_LOCK (jitterbuffer);
  state = GST_STATE (jitterbuffer);
  GST_OBJECT_UNLOCK (jitterbuffer);

  return state < GST_STATE_PAUSED ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

/* rtpbin's thread that found a new SSRC, inside its request for the pad,
 * before it links it. The probe does not outlive the pad's element. */
static void
on_jitterbuffer_pad_added (GstElement *jitterbuffer,
                           GstPad     *pad,
                           gpointer    user_data)
{
  if (GST_PAD_IS_SINK (pad) && g_strcmp0 (GST_PAD_NAME (pad), "sink_rtcp") == 0)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                       on_jitterbuffer_rtcp, jitterbuffer, NULL);
}

/* rtpbin's thread that found a new SSRC, as rtpbin adds the stream's jitter
 * buffer. Connected with no data, so that teardown step 3 (which disconnects
 * every handler of ours that holds Shared) leaves it: bug 25 happens while
 * the pipeline goes down, after that step. It touches no state of the call. */
static void
on_webrtc_jitterbuffer_added (GstBin     *bin,
                              GstBin     *sub_bin,
                              GstElement *element,
                              gpointer    user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);

  if (factory != NULL &&
      g_strcmp0 (gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory)), "rtpjitterbuffer") == 0)
    g_signal_connect (element, "pad-added", G_CALLBACK (on_jitterbuffer_pad_added), NULL);
}

/* Whichever thread adds them: webrtcbin creates a transport's dtlsdec and
 * srtpdec while a description is applied, before any handshake can start.
 * (Jitter buffers: on_webrtc_jitterbuffer_added ().) */
static void
on_webrtc_deep_element_added (GstBin     *bin,
                              GstBin     *sub_bin,
                              GstElement *element,
                              gpointer    user_data)
{
  GstElementFactory *factory = gst_element_get_factory (element);
  const char *name;

  if (factory == NULL)
    return;

  name = gst_plugin_feature_get_name (GST_PLUGIN_FEATURE (factory));
  if (g_strcmp0 (name, "dtlsdec") == 0) {
    g_autoptr(GstPad) sink = gst_element_get_static_pad (element, "sink");

    pl_teardown_guard_dtls_connections ();
    g_signal_connect_data (element, "notify::peer-pem", G_CALLBACK (on_dtls_peer_pem),
                           shared_ref (user_data), shared_unref_closure, 0);
    if (sink != NULL)
      gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                         on_dtls_receive, shared_ref (user_data), shared_unref);
  } else if (g_strcmp0 (name, "srtpdec") == 0) {
    add_static_pad_probe (element, "rtp_sink", GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                          on_srtpdec_first_buffer);
  }
}

/* Reads a promise reply that holds @field (a GstWebRTCSessionDescription),
 * or an "error". Never asserts: after NULL webrtcbin replies with an error,
 * and an interrupted promise has no reply at all. */
static GstWebRTCSessionDescription *
take_description_reply (GstPromise *promise,
                        const char *field,
                        char      **out_error)
{
  GstWebRTCSessionDescription *description = NULL;
  const GstStructure *reply;
  g_autoptr(GError) error = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    *out_error = g_strdup ("webrtcbin did not reply");
    return NULL;
  }

  /* set-*-description reply with no structure at all on success. */
  reply = gst_promise_get_reply (promise);
  if (reply == NULL) {
    if (field != NULL)
      *out_error = g_strdup ("webrtcbin replied with nothing");
    return NULL;
  }
  if (gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL)) {
    *out_error = g_strdup (error->message);
    return NULL;
  }
  if (field == NULL)
    return NULL;
  if (!gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &description, NULL)) {
    *out_error = g_strdup_printf ("webrtcbin's reply has no %s", field);
    return NULL;
  }

  return description;
}

/* webrtcbin's pc thread */
static void
on_description_created (GstPromise *promise,
                        gpointer    user_data)
{
  PeerEvent *event = user_data;
  const char *field = event->kind == EVENT_OFFER ? "offer" : "answer";
  g_autofree char *error = NULL;
  GstWebRTCSessionDescription *description;

  description = take_description_reply (promise, field, &error);
  gst_promise_unref (promise);

  if (description == NULL) {
    event->kind = EVENT_FAILED;
    event->number = PL_CALL_ERROR_NEGOTIATION;
    event->text = g_strdup_printf ("could not create the %s: %s", field, error);
  } else {
    event->text = gst_sdp_message_as_text (description->sdp);
    gst_webrtc_session_description_free (description);
  }
  event->when = g_get_monotonic_time ();
  post_event (event);
}

/* webrtcbin's pc thread */
static void
on_remote_description_set (GstPromise *promise,
                           gpointer    user_data)
{
  PeerEvent *event = user_data;
  g_autofree char *error = NULL;

  take_description_reply (promise, NULL, &error);
  gst_promise_unref (promise);

  if (error != NULL) {
    event->kind = EVENT_FAILED;
    event->number = PL_CALL_ERROR_NEGOTIATION;
    event->text = g_strdup_printf ("the remote description was refused: %s", error);
  }
  event->when = g_get_monotonic_time ();
  post_event (event);
}

/* webrtcbin's pc thread */
static void
on_stats_reply (GstPromise *promise,
                gpointer    user_data)
{
  PeerEvent *event = user_data;
  const GstStructure *reply = NULL;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED)
    reply = gst_promise_get_reply (promise);
  if (reply != NULL && !gst_structure_has_field (reply, "error"))
    event->structure = gst_structure_copy (reply);
  gst_promise_unref (promise);

  post_event (event);
}

/* webrtcbin's pc thread */
static void
on_webrtc_ice_candidate (GstElement *webrtc,
                         guint       mline_index,
                         const char *candidate,
                         gpointer    user_data)
{
  PeerEvent *event = peer_event_new (user_data, EVENT_ICE_CANDIDATE);

  event->number = mline_index;
  event->text = g_strdup (candidate);
  post_event (event);
}

/* webrtcbin's pc thread */
static void
on_webrtc_notify_ice_gathering_state (GstElement *webrtc,
                                      GParamSpec *pspec,
                                      gpointer    user_data)
{
  Shared *shared = user_data;
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE &&
      g_atomic_int_compare_and_exchange (&shared->gathering_done, 0, 1))
    post_event (peer_event_new (shared, EVENT_GATHERING_DONE));
}

/* webrtcbin's pc thread */
static void
on_webrtc_notify_connection_state (GstElement *webrtc,
                                   GParamSpec *pspec,
                                   gpointer    user_data)
{
  PeerEvent *event = peer_event_new (user_data, EVENT_CONNECTION_STATE);
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  event->number = state;
  post_event (event);
}

/* The call's sending thread (proxysrc's queue). While muted, each frame is
 * replaced by a frame of silence with the same RTP header: the stream goes on,
 * with no renegotiation, and the other side hears silence, not loss. */
static GstPadProbeReturn
on_send_buffer (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  Shared *shared = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer in = GST_RTP_BUFFER_INIT;
  GstRTPBuffer out = GST_RTP_BUFFER_INIT;
  GstBuffer *silent;
  gsize size;
  const guint8 *payload;

  /* Nothing goes to a peer whose certificate was refused. Before the
   * verdict nothing can reach it either: the verdict comes inside the DTLS
   * handshake, before the SRTP keys exist, and dtlssrtpenc drops what it
   * cannot encrypt (docs/webrtcbin-1.22.md, bug 22). */
  if (g_atomic_int_get (&shared->verified) == -1)
    return GST_PAD_PROBE_DROP;
  if (!g_atomic_int_get (&shared->muted) || shared->silence == NULL)
    return GST_PAD_PROBE_OK;
  if (!gst_rtp_buffer_map (buffer, GST_MAP_READ, &in))
    return GST_PAD_PROBE_OK;

  payload = g_bytes_get_data (shared->silence, &size);
  silent = gst_rtp_buffer_new_allocate (size, 0, 0);
  gst_rtp_buffer_map (silent, GST_MAP_WRITE, &out);
  gst_rtp_buffer_set_ssrc (&out, gst_rtp_buffer_get_ssrc (&in));
  gst_rtp_buffer_set_seq (&out, gst_rtp_buffer_get_seq (&in));
  gst_rtp_buffer_set_timestamp (&out, gst_rtp_buffer_get_timestamp (&in));
  gst_rtp_buffer_set_payload_type (&out, gst_rtp_buffer_get_payload_type (&in));
  gst_rtp_buffer_set_marker (&out, gst_rtp_buffer_get_marker (&in));
  memcpy (gst_rtp_buffer_get_payload (&out), payload, size);
  gst_rtp_buffer_unmap (&out);
  gst_rtp_buffer_unmap (&in);
  gst_buffer_copy_into (silent, buffer, GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS, 0, -1);

  gst_buffer_unref (buffer);
  GST_PAD_PROBE_INFO_DATA (info) = silent;

  return GST_PAD_PROBE_OK;
}

/* A streaming thread: what webrtcbin received, decrypted. None of it is
 * played before the peer's certificate matched its fingerprint. */
static GstPadProbeReturn
on_receive_buffer (GstPad          *pad,
                   GstPadProbeInfo *info,
                   gpointer         user_data)
{
  Shared *shared = user_data;

  return g_atomic_int_get (&shared->verified) == 1 ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

/* A streaming thread: the first decoded buffer of the remote side. */
static GstPadProbeReturn
on_decoder_first_buffer (GstPad          *pad,
                         GstPadProbeInfo *info,
                         gpointer         user_data)
{
  Shared *shared = user_data;

  if (g_atomic_int_compare_and_exchange (&shared->first_audio_seen, 0, 1))
    post_event (peer_event_new (shared, EVENT_FIRST_AUDIO));

  return GST_PAD_PROBE_REMOVE;
}

/* A streaming thread. Linking here is thread-safe; we change no pipeline
 * state but the new branch's own (the receive bin joins its parent). */
static void
on_webrtc_pad_added (GstElement *webrtc,
                     GstPad     *pad,
                     gpointer    user_data)
{
  Shared *shared = user_data;
  GstElement *pipeline = GST_ELEMENT (gst_element_get_parent (webrtc));
  g_autoptr(GstPad) sink_pad = NULL;
  GstElement *branch;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC || pipeline == NULL) {
    gst_clear_object (&pipeline);
    return;
  }

  /* The media gate, before anything is linked to the pad. */
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                     on_receive_buffer, shared_ref (shared), shared_unref);

  if (g_atomic_int_compare_and_exchange (&shared->receive_linked, 0, 1)) {
    branch = gst_object_ref (shared->receive_bin);
  } else {
    /* One audio stream is all a Partyline call plays. */
    branch = gst_element_factory_make ("fakesink", NULL);
    g_object_set (branch, "async", FALSE, "sync", FALSE, NULL);
    gst_object_ref_sink (branch);
  }

  gst_bin_add (GST_BIN (pipeline), branch);
  sink_pad = gst_element_get_static_pad (branch, "sink");
  if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
    post_failure (shared, PL_CALL_ERROR_PIPELINE, "could not link the received audio");
  gst_element_sync_state_with_parent (branch);

  gst_object_unref (branch);
  gst_object_unref (pipeline);
}

/* GStreamer 1.22.0 work-around (docs/webrtcbin-1.22.md, bug 18): tell
 * rtpsession the sender's SSRC and clock rate up front.
 *
 * With max-bundle, webrtcbin sends through an rtpfunnel whose caps carry
 * neither (gstrtpfunnel.c keeps them for itself), so rtpsession's source for
 * what we send learns its clock rate only when the first sender report is
 * built. rtp_session_on_timeout (rtpsession.c:4719) then asks for it from
 * inside g_hash_table_foreach over the session's sources, and source_caps
 * (:1578) drops the session lock for that call; an RTCP or RTP packet from
 * the other side that adds a source meanwhile changes the table under the
 * iterator: "g_hash_table_foreach: assertion 'version ==
 * hash_table->version' failed" on the RTCP thread, and the rest of that
 * report is skipped. Upstream fixed the iteration in b9f7ab6052 (1.22.3).
 *
 * rtp_session_update_send_caps() reads "ssrc" and "clock-rate" from the caps
 * arriving at rtpbin's send_rtp_sink pad. This probe adds them there, taken
 * from what we feed webrtcbin's sink pad (the payloader's caps), so the
 * source knows its clock rate before the first report and the lock is never
 * dropped in that loop. A Partyline call sends one stream, so the first sink
 * pad with an SSRC is the one. Runs on the funnel's streaming thread. */
static gint
compare_sender_pad (gconstpointer item,
                    gconstpointer unused)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (g_value_get_object (item));

  if (caps != NULL && gst_caps_is_fixed (caps) &&
      gst_structure_has_field_typed (gst_caps_get_structure (caps, 0), "ssrc", G_TYPE_UINT))
    return 0;

  return 1;
}

static GstCaps *
get_sender_caps (GstElement *webrtc)
{
  g_autoptr(GstIterator) it = gst_element_iterate_sink_pads (webrtc);
  GValue item = G_VALUE_INIT;
  GstCaps *caps;

  /* find_custom resyncs by itself if webrtcbin's pads change meanwhile. */
  if (!gst_iterator_find_custom (it, compare_sender_pad, &item, NULL))
    return NULL;

  caps = gst_pad_get_current_caps (g_value_get_object (&item));
  g_value_unset (&item);

  return caps;
}

static GstPadProbeReturn
on_rtpbin_send_caps (GstPad          *pad,
                     GstPadProbeInfo *info,
                     gpointer         user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  g_autoptr(GstElement) rtpbin = NULL;
  g_autoptr(GstObject) webrtc = NULL;
  g_autoptr(GstCaps) sender_caps = NULL;
  const GstStructure *sender;
  GstStructure *s;
  GstCaps *caps;
  guint ssrc;
  gint clock_rate;
  gint payload;

  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;

  gst_event_parse_caps (event, &caps);
  if (gst_structure_has_field (gst_caps_get_structure (caps, 0), "ssrc"))
    return GST_PAD_PROBE_OK;

  rtpbin = gst_pad_get_parent_element (pad);
  if (rtpbin != NULL)
    webrtc = gst_object_get_parent (GST_OBJECT (rtpbin));
  if (webrtc != NULL)
    sender_caps = get_sender_caps (GST_ELEMENT (webrtc));
  if (sender_caps == NULL)
    return GST_PAD_PROBE_OK;

  sender = gst_caps_get_structure (sender_caps, 0);
  if (!gst_structure_get_uint (sender, "ssrc", &ssrc) ||
      !gst_structure_get_int (sender, "clock-rate", &clock_rate))
    return GST_PAD_PROBE_OK;

  caps = gst_caps_copy (caps);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_set (s,
                     "ssrc", G_TYPE_UINT, ssrc,
                     "clock-rate", G_TYPE_INT, clock_rate,
                     NULL);
  if (gst_structure_get_int (sender, "payload", &payload))
    gst_structure_set (s, "payload", G_TYPE_INT, payload, NULL);

  gst_event_unref (event);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (caps);
  gst_caps_unref (caps);

  return GST_PAD_PROBE_OK;
}

/* webrtcbin's thread, when it requests rtpbin's sending pad (set-up). */
static void
on_rtpbin_pad_added (GstElement *rtpbin,
                     GstPad     *pad,
                     gpointer    user_data)
{
  if (GST_PAD_DIRECTION (pad) == GST_PAD_SINK &&
      g_str_has_prefix (GST_PAD_NAME (pad), "send_rtp_sink_"))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                       on_rtpbin_send_caps, NULL, NULL);
}

static void
parse_stats (const GstStructure *stats,
             PlCallStats        *out)
{
  int n = gst_structure_n_fields (stats);

  out->rtt_ms = -1;
  out->packets_received = -1;
  out->packets_lost = -1;
  out->jitter_ms = -1;

  for (int i = 0; i < n; i++) {
    const char *name = gst_structure_nth_field_name (stats, i);
    const GValue *value = gst_structure_get_value (stats, name);
    const GstStructure *s;
    GstWebRTCStatsType type;

    if (!GST_VALUE_HOLDS_STRUCTURE (value))
      continue;
    s = gst_value_get_structure (value);
    if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
      continue;

    if (type == GST_WEBRTC_STATS_INBOUND_RTP) {
      guint64 received;
      gint64 lost;
      double jitter;

      if (gst_structure_get_uint64 (s, "packets-received", &received))
        out->packets_received = received;
      if (gst_structure_get_int64 (s, "packets-lost", &lost))
        out->packets_lost = MAX (lost, 0);
      if (gst_structure_get_double (s, "jitter", &jitter))
        out->jitter_ms = jitter * 1000.0;
    } else if (type == GST_WEBRTC_STATS_REMOTE_INBOUND_RTP) {
      double rtt;

      if (gst_structure_get_double (s, "round-trip-time", &rtt))
        out->rtt_ms = rtt * 1000.0;
    }
  }
}

/* With GST_DEBUG_DUMP_DOT_DIR set, every call leaves a graph of itself once
 * connected. A graph of a call's pipeline takes milliseconds to write, and
 * seconds under AddressSanitizer: on the main loop, eight calls connecting
 * at once stalled a phone for half a minute (the server took it for gone).
 * So it is written on a thread of GIO's pool; the pipeline counts as
 * lingering until then, and its ref is dropped back on the main thread. */
static void
dump_dot_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GstElement *pipeline = task_data;

  /* Without the elements' properties (GST_DEBUG_GRAPH_SHOW_ALL reads every
   * one of them, which is most of the time, and the DTLS elements' during a
   * teardown are not to be read: docs/webrtcbin-1.22.md, bug 4). `dump` shows
   * them. */
  GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS (GST_BIN (pipeline),
                                     GST_DEBUG_GRAPH_SHOW_MEDIA_TYPE |
                                     GST_DEBUG_GRAPH_SHOW_CAPS_DETAILS |
                                     GST_DEBUG_GRAPH_SHOW_STATES,
                                     g_task_get_name (task));
  g_task_return_boolean (task, TRUE);
}

static void
dump_dot_done (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  gst_object_unref (g_task_get_task_data (G_TASK (result)));
  pl_teardown_lingering_release ();
}

static void
dump_dot_later (PlPeer *self)
{
  g_autoptr(GTask) task = NULL;
  const char *dir = g_getenv ("GST_DEBUG_DUMP_DOT_DIR");

  if (dir == NULL || *dir == '\0')
    return;

  pl_teardown_lingering_hold ();
  task = g_task_new (NULL, NULL, dump_dot_done, NULL);
  g_task_set_source_tag (task, dump_dot_later);
  g_task_set_name (task, self->name);
  /* No destroy notify: dump_dot_done () drops it, on the main thread. */
  g_task_set_task_data (task, gst_object_ref (self->pipeline), NULL);
  g_task_run_in_thread (task, dump_dot_thread);
}

static void
dispatch_event (PlPeer    *self,
                PeerEvent *event)
{
  switch (event->kind) {
  case EVENT_OFFER:
  case EVENT_ANSWER:
    {
      const char *type = event->kind == EVENT_OFFER ? "offer" : "answer";
      GstWebRTCSDPType sdp_type = event->kind == EVENT_OFFER
                                  ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER;
      GstSDPMessage *sdp = NULL;
      GstWebRTCSessionDescription *description;
      GstPromise *promise;

      /* Tell signaling first: the candidates gathered once the local
       * description is set must never overtake the SDP they belong to. */
      g_signal_emit (self, signals[SIGNAL_LOCAL_DESCRIPTION], 0, type, event->text, event->when);

      if (g_cancellable_is_cancelled (self->cancellable) ||
          gst_sdp_message_new_from_text (event->text, &sdp) != GST_SDP_OK)
        return;
      description = gst_webrtc_session_description_new (sdp_type, sdp);
      promise = gst_promise_new ();
      g_signal_emit_by_name (self->webrtc, "set-local-description", description, promise);
      gst_promise_unref (promise);
      gst_webrtc_session_description_free (description);
    }
    break;

  case EVENT_REMOTE_SET:
    g_signal_emit (self, signals[SIGNAL_REMOTE_DESCRIPTION_SET], 0, event->when);
    break;

  case EVENT_ICE_CANDIDATE:
    g_signal_emit (self, signals[SIGNAL_ICE_CANDIDATE], 0, event->number, event->text);
    break;

  case EVENT_GATHERING_DONE:
    /* End of candidates, as the protocol writes it. */
    g_signal_emit (self, signals[SIGNAL_ICE_CANDIDATE], 0, 0, "");
    break;

  case EVENT_CONNECTION_STATE:
    /* Connected means active only for a peer whose certificate matched. The
     * verification ran inside the handshake, before DTLS (and so webrtcbin)
     * could report connected; a refusal has posted its own failure. */
    if (event->number == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
      int verified = g_atomic_int_get (&self->shared->verified);

      if (verified == -1)
        return;
      if (verified == 0) {
        emit_failed (self, PL_CALL_ERROR_PEER_AUTHENTICATION,
                     "DTLS connected, but the peer's certificate was never verified");
        return;
      }
    }
    if (event->number == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
      dump_dot_later (self);
    g_signal_emit (self, signals[SIGNAL_CONNECTION_STATE], 0, event->number, event->when);
    break;

  case EVENT_FIRST_AUDIO:
    g_signal_emit (self, signals[SIGNAL_FIRST_AUDIO], 0, event->when);
    break;

  case EVENT_STATS:
    {
      PlCallStats stats;

      if (event->structure == NULL)
        return;
      parse_stats (event->structure, &stats);
      g_signal_emit (self, signals[SIGNAL_STATS], 0, &stats);
    }
    break;

  case EVENT_FAILED:
    emit_failed (self, (PlCallError) event->number, event->text);
    break;

  default:
    g_assert_not_reached ();
  }
}

/* Which part of the call an error message comes from, by the bin that holds
 * the element that posted it: the shared source's end in this pipeline is the
 * source (what it sends could not be captured or decoded); anything else,
 * webrtcbin or the receive bin, is the pipeline. */
static PlCallError
classify_bus_error (PlPeer     *self,
                    GstMessage *message)
{
  GstObject *src = GST_MESSAGE_SRC (message);

  if (self->source != NULL &&
      (src == GST_OBJECT (self->source) ||
       gst_object_has_as_ancestor (src, GST_OBJECT (self->source))))
    return PL_CALL_ERROR_SOURCE;

  return PL_CALL_ERROR_PIPELINE;
}

/* The main context: the pipeline's bus watch. */
static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  PlPeer *self = user_data;

  if (g_cancellable_is_cancelled (self->cancellable))
    return G_SOURCE_CONTINUE;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) error = NULL;
    g_autofree char *debug = NULL;
    g_autofree char *text = NULL;

    gst_message_parse_error (message, &error, &debug);
    g_debug ("%s: error from %s: %s (%s)", self->name, GST_OBJECT_NAME (message->src),
             error->message, debug ? debug : "");
    GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS (GST_BIN (self->pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                       self->name);
    text = g_strdup_printf ("%s: %s", GST_OBJECT_NAME (message->src), error->message);
    emit_failed (self, classify_bus_error (self, message), text);
  } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT) {
    const GstStructure *s = gst_message_get_structure (message);

    if (gst_structure_has_name (s, "level")) {
      const GValue *rms = gst_structure_get_value (s, "rms");

      /* A GValueArray, one value per channel; we receive mono. */
      if (rms != NULL && G_VALUE_HOLDS_BOXED (rms)) {
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        GValueArray *array = g_value_get_boxed (rms);

        if (array != NULL && array->n_values > 0 && G_VALUE_HOLDS_DOUBLE (&array->values[0])) {
          self->last_level_db = g_value_get_double (&array->values[0]);
          g_signal_emit (self, signals[SIGNAL_LEVEL], 0, self->last_level_db);
        }
        G_GNUC_END_IGNORE_DEPRECATIONS
      }
    } else if (gst_structure_has_name (s, "spectrum") && self->spectrum != NULL) {
      guint bands = 0;
      double hz, db;

      g_object_get (self->spectrum, "bands", &bands, NULL);
      if (pl_media_spectrum_peak (s, 48000, bands, &hz, &db))
        g_signal_emit (self, signals[SIGNAL_MEDIA], 0, hz, self->last_level_db);
    }
  }

  return G_SOURCE_CONTINUE;
}

static void
on_webrtc_weak_notify (gpointer  data,
                       GObject  *where_the_object_was)
{
  _pl_resources_add (&_pl_resources_webrtcbins, -1);
}

/* audio-receive, then a named output device. */
static GstElement *
build_device_receive (const PlMediaConfig *config,
                      const char          *receive_desc,
                      GError             **error)
{
  g_autofree char *description = g_strdup_printf ("%s ! audioconvert ! audioresample",
                                                  receive_desc);
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstElement) bin = NULL;
  g_autoptr(GstPad) ghost = NULL;
  g_autoptr(GstPad) last = NULL;

  sink = _pl_media_create_device_element (FALSE, config->sink_device, error);
  if (sink == NULL)
    return NULL;

  bin = gst_parse_bin_from_description_full (description, TRUE, NULL,
                                             GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (bin == NULL) {
    g_prefix_error (error, "pipelines/audio-receive + device: ");
    return NULL;
  }
  gst_object_ref_sink (bin);
  gst_object_set_name (GST_OBJECT (bin), "receive");

  /* The parsed bin ghosts its free source pad: the device takes it instead. */
  ghost = gst_element_get_static_pad (bin, "src");
  last = ghost ? gst_ghost_pad_get_target (GST_GHOST_PAD (ghost)) : NULL;
  if (last == NULL) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "audio-receive has no free source pad");
    return NULL;
  }
  gst_element_remove_pad (bin, ghost);
  gst_bin_add (GST_BIN (bin), g_object_ref (sink));
  {
    g_autoptr(GstPad) sink_pad = gst_element_get_static_pad (sink, "sink");

    if (sink_pad == NULL || gst_pad_link (last, sink_pad) != GST_PAD_LINK_OK) {
      g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                   "could not link audio-receive to the audio output '%s'", config->sink_device);
      return NULL;
    }
  }

  return g_steal_pointer (&bin);
}

static GstElement *
build_receive (const PlMediaConfig *config,
               const char          *call_id,
               const char          *name,
               GError             **error)
{
  static const char * const sinks[] = {
    [PL_SINK_AUTO] = "sink-auto",
    [PL_SINK_FAKE] = "sink-fake",
    [PL_SINK_RECORD] = "sink-record",
  };
  const char *receive_desc, *sink_desc;
  g_autofree char *description = NULL;
  GstElement *bin;

  receive_desc = pl_media_get_description ("audio-receive", error);
  if (receive_desc == NULL)
    return NULL;
  if (config->sink == PL_SINK_DEVICE)
    return build_device_receive (config, receive_desc, error);
  sink_desc = pl_media_get_description (sinks[config->sink], error);
  if (sink_desc == NULL)
    return NULL;

  description = g_strdup_printf ("%s ! %s", receive_desc, sink_desc);
  bin = gst_parse_bin_from_description_full (description, TRUE, NULL,
                                             GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (bin == NULL) {
    g_prefix_error (error, "pipelines/audio-receive + %s: ", sinks[config->sink]);
    return NULL;
  }
  gst_object_set_name (GST_OBJECT (bin), "receive");

  if (config->sink == PL_SINK_RECORD) {
    g_autoptr(GstElement) sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
    g_autofree char *file = g_strdup_printf ("%s-%s.ogg", name, call_id);
    g_autofree char *path = g_build_filename (config->record_dir, file, NULL);

    if (sink != NULL)
      g_object_set (sink, "location", path, NULL);
  }

  return gst_object_ref_sink (bin);
}

static void
on_nice_agent_weak_notify (gpointer  data,
                           GObject  *where_the_object_was)
{
  _pl_resources_add (&_pl_resources_nice_agents, -1);
}

static void
configure_ice (PlPeer *self)
{
  g_autoptr(GstWebRTCICE) ice = NULL;
  g_autoptr(GObject) agent = NULL;

  g_object_get (self->webrtc, "ice-agent", &ice, NULL);
  if (ice == NULL)
    return;

  /* TCP candidates and UPnP cost file descriptors and time on every call
   * and bring nothing on the networks Partyline targets. */
  g_object_set (ice, "ice-tcp", FALSE, NULL);

  if (g_object_class_find_property (G_OBJECT_GET_CLASS (ice), "agent"))
    g_object_get (ice, "agent", &agent, NULL);
  if (agent != NULL) {
    if (g_object_class_find_property (G_OBJECT_GET_CLASS (agent), "upnp"))
      g_object_set (agent, "upnp", FALSE, NULL);
    g_object_set (agent, "stun-pacing-timer", self->config->stun_pacing_ms, NULL);
    g_debug ("%s: ICE pacing %u ms, UPnP off", self->name, self->config->stun_pacing_ms);
    /* A backstop for leaks inside webrtcbin (docs/webrtcbin-1.22.md, "Measured on
     * this platform": weak-ref the NiceAgent). */
    _pl_resources_add (&_pl_resources_nice_agents, 1);
    g_object_weak_ref (agent, on_nice_agent_weak_notify, NULL);
  } else {
    g_warning ("webrtcbin's ICE agent has no libnice agent: pacing and UPnP left as they are");
  }

  for (guint i = 0; self->config->ice_addresses && self->config->ice_addresses[i]; i++) {
    gboolean added = FALSE;

    g_signal_emit_by_name (ice, "add-local-ip-address", self->config->ice_addresses[i], &added);
    if (!added)
      g_warning ("could not restrict ICE to %s", self->config->ice_addresses[i]);
  }
}

static gboolean
build_pipeline (PlPeer  *self,
                GError **error)
{
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstElement) decoder = NULL;
  g_autoptr(GstElement) rtpbin = NULL;
  g_autoptr(GstPad) decoder_src = NULL;
  g_autoptr(GstPad) webrtc_sink = NULL;
  g_autoptr(GstPad) send_src = NULL;
  g_autoptr(GstWebRTCRTPTransceiver) transceiver = NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autofree char *pipeline_name = NULL;

  pipeline_name = g_strdup_printf ("call-%s", self->name);
  self->pipeline = gst_object_ref_sink (gst_pipeline_new (pipeline_name));

  self->shared->receive_bin = build_receive (self->config, self->call_id, self->name, error);
  if (self->shared->receive_bin == NULL)
    return FALSE;

  self->webrtc = gst_element_factory_make ("webrtcbin", "webrtc");
  if (self->webrtc == NULL) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "webrtcbin is not available (install gstreamer1.0-plugins-bad and gstreamer1.0-nice)");
    return FALSE;
  }
  _pl_resources_add (&_pl_resources_webrtcbins, 1);
  g_object_weak_ref (G_OBJECT (self->webrtc), on_webrtc_weak_notify, NULL);

  g_object_set (self->webrtc,
                "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
                "latency", self->config->latency_ms,
                NULL);
  if (self->config->stun_servers != NULL && self->config->stun_servers[0] != NULL)
    g_object_set (self->webrtc, "stun-server", self->config->stun_servers[0], NULL);
  for (guint i = 0; self->config->turn_servers && self->config->turn_servers[i]; i++) {
    gboolean added = FALSE;

    g_signal_emit_by_name (self->webrtc, "add-turn-server", self->config->turn_servers[i], &added);
    if (!added)
      g_warning ("webrtcbin refused TURN server %s", self->config->turn_servers[i]);
  }
  gst_bin_add (GST_BIN (self->pipeline), self->webrtc);

  rtpbin = gst_bin_get_by_name (GST_BIN (self->webrtc), "rtpbin");
  if (rtpbin != NULL)
    g_signal_connect (rtpbin, "pad-added", G_CALLBACK (on_rtpbin_pad_added), NULL);
  else
    g_warning ("webrtcbin has no element named rtpbin: RTCP sender reports may race (GStreamer b9f7ab6052)");

  /* What we send: the line's shared source (one capture and encoder for every
   * call); muting this call alone replaces its frames with silence. */
  self->branch = pl_shared_source_add_branch (self->shared_source, self->pipeline, &source, error);
  if (self->branch == NULL)
    return FALSE;
  gst_bin_add (GST_BIN (self->pipeline), source);
  self->source = source;
  self->shared->silence = pl_shared_source_get_silence (self->shared_source);

  webrtc_sink = gst_element_request_pad_simple (self->webrtc, "sink_%u");
  send_src = gst_element_get_static_pad (source, "src");
  if (send_src != NULL)
    gst_pad_add_probe (send_src, GST_PAD_PROBE_TYPE_BUFFER, on_send_buffer,
                       shared_ref (self->shared), shared_unref);
  if (webrtc_sink == NULL || send_src == NULL ||
      gst_pad_link (send_src, webrtc_sink) != GST_PAD_LINK_OK) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "could not link the shared source to webrtcbin");
    return FALSE;
  }

  /* Offer (or answer) Opus at once, without waiting for caps to flow. */
  caps = gst_caps_new_simple ("application/x-rtp",
                              "media", G_TYPE_STRING, "audio",
                              "encoding-name", G_TYPE_STRING, "OPUS",
                              "clock-rate", G_TYPE_INT, 48000,
                              "encoding-params", G_TYPE_STRING, "2",
                              "payload", G_TYPE_INT, self->payload_type,
                              NULL);
  g_object_get (webrtc_sink, "transceiver", &transceiver, NULL);
  if (transceiver != NULL)
    g_object_set (transceiver,
                  "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
                  "codec-preferences", caps,
                  NULL);

  decoder = gst_bin_get_by_name (GST_BIN (self->shared->receive_bin), "decoder");
  if (decoder != NULL) {
    decoder_src = gst_element_get_static_pad (decoder, "src");
    gst_pad_add_probe (decoder_src, GST_PAD_PROBE_TYPE_BUFFER, on_decoder_first_buffer,
                       shared_ref (self->shared), shared_unref);
  }
  self->spectrum = gst_bin_get_by_name (GST_BIN (self->shared->receive_bin), "spectrum");
  if (self->spectrum != NULL)
    g_object_set (self->spectrum, "post-messages", self->config->analyze, NULL);

  g_signal_connect_data (self->webrtc, "on-ice-candidate",
                         G_CALLBACK (on_webrtc_ice_candidate),
                         shared_ref (self->shared), shared_unref_closure, 0);
  g_signal_connect_data (self->webrtc, "notify::ice-gathering-state",
                         G_CALLBACK (on_webrtc_notify_ice_gathering_state),
                         shared_ref (self->shared), shared_unref_closure, 0);
  g_signal_connect_data (self->webrtc, "notify::connection-state",
                         G_CALLBACK (on_webrtc_notify_connection_state),
                         shared_ref (self->shared), shared_unref_closure, 0);
  g_signal_connect_data (self->webrtc, "deep-element-added",
                         G_CALLBACK (on_webrtc_deep_element_added),
                         shared_ref (self->shared), shared_unref_closure, 0);
  g_signal_connect (self->webrtc, "deep-element-added",
                    G_CALLBACK (on_webrtc_jitterbuffer_added), NULL);
  g_signal_connect_data (self->webrtc, "pad-added",
                         G_CALLBACK (on_webrtc_pad_added),
                         shared_ref (self->shared), shared_unref_closure, 0);

  configure_ice (self);

  return TRUE;
}

static void
pl_peer_dispose (GObject *object)
{
  PlPeer *self = PL_PEER (object);

  g_clear_handle_id (&self->record_timeout_id, g_source_remove);
  g_clear_handle_id (&self->drain_timeout_id, g_source_remove);
  g_clear_handle_id (&self->bus_watch_id, g_source_remove);

  if (self->pipeline != NULL) {
    /* pl_peer_close_async () was not used: stop everything here, on the
     * main thread, the slow way. */
    if (self->webrtc != NULL)
      g_signal_handlers_disconnect_matched (self->webrtc, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                                            self->shared);
    if (self->branch != NULL)
      pl_shared_source_remove_branch (self->shared_source, g_steal_pointer (&self->branch));
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
  }
  /* The receive branch and Shared hold each other (see to_null_cb ()). */
  if (self->shared != NULL)
    gst_clear_object (&self->shared->receive_bin);

  self->webrtc = NULL;
  self->source = NULL;
  gst_clear_object (&self->spectrum);
  gst_clear_object (&self->pipeline);
  g_clear_object (&self->shared_source);

  G_OBJECT_CLASS (pl_peer_parent_class)->dispose (object);
}

static void
pl_peer_finalize (GObject *object)
{
  PlPeer *self = PL_PEER (object);

  g_clear_pointer (&self->shared, shared_unref);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->config, pl_media_config_free);
  g_free (self->call_id);
  g_free (self->name);
  _pl_resources_add (&_pl_resources_peers, -1);

  G_OBJECT_CLASS (pl_peer_parent_class)->finalize (object);
}

static void
pl_peer_class_init (PlPeerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_peer_dispose;
  object_class->finalize = pl_peer_finalize;

  /* (type "offer"|"answer", sdp, when) — a local description to signal. */
  signals[SIGNAL_LOCAL_DESCRIPTION] =
    g_signal_new ("local-description", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64);
  signals[SIGNAL_REMOTE_DESCRIPTION_SET] =
    g_signal_new ("remote-description-set", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* (mline, candidate); "" is the end of candidates. */
  signals[SIGNAL_ICE_CANDIDATE] =
    g_signal_new ("ice-candidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_STRING);
  signals[SIGNAL_CONNECTION_STATE] =
    g_signal_new ("connection-state", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_INT64);
  signals[SIGNAL_FIRST_AUDIO] =
    g_signal_new ("first-audio", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  signals[SIGNAL_LEVEL] =
    g_signal_new ("level", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
  /* (frequency Hz, level dB) of what the call hears, once a second with analysis on. */
  signals[SIGNAL_MEDIA] =
    g_signal_new ("media", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  signals[SIGNAL_STATS] =
    g_signal_new ("stats", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /* (const GError *, PL_CALL_ERROR) on the main context. */
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
pl_peer_init (PlPeer *self)
{
  _pl_resources_add (&_pl_resources_peers, 1);
  self->last_level_db = -100.0;
}

PlPeer *
pl_peer_new (const char          *call_id,
             const char          *name,
             GCancellable        *cancellable,
             const PlMediaConfig *config,
             PlSharedSource      *shared_source)
{
  PlPeer *self;

  g_return_val_if_fail (call_id != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (PL_IS_SHARED_SOURCE (shared_source), NULL);

  self = g_object_new (PL_TYPE_PEER, NULL);
  self->call_id = g_strdup (call_id);
  self->name = g_strdup (name);
  self->cancellable = g_object_ref (cancellable);
  self->config = pl_media_config_copy (config);
  self->payload_type = pl_shared_source_get_payload_type (shared_source);
  self->shared_source = g_object_ref (shared_source);

  self->shared = g_new0 (Shared, 1);
  g_atomic_ref_count_init (&self->shared->ref_count);
  g_weak_ref_init (&self->shared->peer_wr, self);
  self->shared->cancellable = g_object_ref (cancellable);
  self->shared->call_id = g_strdup (call_id);
  self->shared->context = g_main_context_ref_thread_default ();
  g_mutex_init (&self->shared->verify_lock);

  return self;
}

/* The worker pool. The main thread leaves the peer's pipeline fields alone
 * while `building` is set, and holds a ref on the peer until start_cb (). */
static void
start_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  PlPeer *self = task_data;
  g_autoptr(GError) error = NULL;

  if (!build_pipeline (self, &error)) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS (GST_BIN (self->pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                       self->name);
    g_task_return_new_error (task, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                             "the call's pipeline could not start "
                             "(is the audio device available?)");
    return;
  }

  /* Only a PLAYING branch may be fed from the shared tee. */
  if (!pl_shared_source_connect (self->shared_source, self->branch, &error)) {
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }

  g_task_return_boolean (task, TRUE);
}

static void continue_close (PlPeer *self);

/* Back on the main context. */
static void
start_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  PlPeer *self = g_task_get_source_object (outer);
  g_autoptr(GError) error = NULL;

  self->building = FALSE;
  if (self->pipeline != NULL)
    self->bus_watch_id = pl_media_add_bus_watch (self->pipeline, self->shared->context,
                                                 on_bus_message, self);

  if (g_task_propagate_boolean (G_TASK (result), &error))
    self->started = TRUE;

  if (self->close_task != NULL) {
    /* Hung up while the pipeline was being built. */
    continue_close (self);
    g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_CANCELLED, "the call was hung up");
  } else if (error != NULL) {
    g_task_return_error (outer, g_steal_pointer (&error));
  } else {
    g_task_return_boolean (outer, TRUE);
  }
}

void
pl_peer_start_async (PlPeer             *self,
                     GAsyncReadyCallback callback,
                     gpointer            user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;

  g_return_if_fail (PL_IS_PEER (self));
  g_return_if_fail (!self->building && !self->started && self->pipeline == NULL);
  g_return_if_fail (self->close_task == NULL && !self->closed);

  outer = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (outer, pl_peer_start_async);

  self->building = TRUE;
  inner = g_task_new (NULL, NULL, start_cb, g_steal_pointer (&outer));
  g_task_set_task_data (inner, self, NULL);
  pl_worker_run_in_thread (inner, start_thread);
}

gboolean
pl_peer_start_finish (PlPeer       *self,
                      GAsyncResult *result,
                      GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pl_peer_create_offer (PlPeer *self)
{
  GstPromise *promise;

  g_return_if_fail (PL_IS_PEER (self));
  g_return_if_fail (self->started);

  promise = gst_promise_new_with_change_func (on_description_created,
                                              peer_event_new (self->shared, EVENT_OFFER),
                                              NULL);
  g_signal_emit_by_name (self->webrtc, "create-offer", NULL, promise);
}

void
pl_peer_create_answer (PlPeer *self)
{
  GstPromise *promise;

  g_return_if_fail (PL_IS_PEER (self));
  g_return_if_fail (self->started);

  promise = gst_promise_new_with_change_func (on_description_created,
                                              peer_event_new (self->shared, EVENT_ANSWER),
                                              NULL);
  g_signal_emit_by_name (self->webrtc, "create-answer", NULL, promise);
}

void
pl_peer_set_remote_description (PlPeer          *self,
                                GstWebRTCSDPType type,
                                const char      *sdp)
{
  GstSDPMessage *message = NULL;
  GstWebRTCSessionDescription *description;
  GstPromise *promise;

  g_return_if_fail (PL_IS_PEER (self));
  g_return_if_fail (self->started);
  g_return_if_fail (sdp != NULL);

  if (gst_sdp_message_new_from_text (sdp, &message) != GST_SDP_OK) {
    post_failure (self->shared, PL_CALL_ERROR_NEGOTIATION, "the remote SDP cannot be parsed");
    return;
  }

  /* The verifier knows what to expect before webrtcbin can start a handshake
   * with it; a certificate that came first is checked now. */
  g_mutex_lock (&self->shared->verify_lock);
  g_free (self->shared->remote_sdp);
  self->shared->remote_sdp = g_strdup (sdp);
  if (self->shared->pending_pem != NULL) {
    g_autofree char *pem = g_steal_pointer (&self->shared->pending_pem);

    verify_locked (self->shared, pem);
  }
  g_mutex_unlock (&self->shared->verify_lock);

  description = gst_webrtc_session_description_new (type, message);
  promise = gst_promise_new_with_change_func (on_remote_description_set,
                                              peer_event_new (self->shared, EVENT_REMOTE_SET),
                                              NULL);
  g_signal_emit_by_name (self->webrtc, "set-remote-description", description, promise);
  gst_webrtc_session_description_free (description);
}

void
pl_peer_add_ice_candidate (PlPeer     *self,
                           guint       mline_index,
                           const char *candidate)
{
  g_return_if_fail (PL_IS_PEER (self));
  g_return_if_fail (candidate != NULL);

  if (!self->started || *candidate == '\0')
    return;

  if (!pl_sdp_candidate_is_usable (candidate)) {
    g_debug ("%s: ignoring candidate '%.80s' (malformed, or an mDNS host)", self->name, candidate);
    return;
  }

  g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline_index, candidate);
}

void
pl_peer_set_muted (PlPeer  *self,
                   gboolean muted)
{
  g_return_if_fail (PL_IS_PEER (self));

  g_atomic_int_set (&self->shared->muted, muted);
}

void
pl_peer_request_stats (PlPeer *self)
{
  GstPromise *promise;

  g_return_if_fail (PL_IS_PEER (self));

  if (!self->started || g_cancellable_is_cancelled (self->cancellable))
    return;

  promise = gst_promise_new_with_change_func (on_stats_reply,
                                              peer_event_new (self->shared, EVENT_STATS),
                                              NULL);
  g_signal_emit_by_name (self->webrtc, "get-stats", NULL, promise);
}

char *
pl_peer_dump_dot (PlPeer  *self,
                  GError **error)
{
  g_autofree char *data = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  const char *dir;

  g_return_val_if_fail (PL_IS_PEER (self), NULL);

  if (self->pipeline == NULL || self->building) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "the call's pipeline is not built yet");
    return NULL;
  }

  dir = g_getenv ("GST_DEBUG_DUMP_DOT_DIR");
  if (dir == NULL || *dir == '\0')
    dir = g_get_tmp_dir ();
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                 "cannot create %s: %s", dir, g_strerror (errno));
    return NULL;
  }

  data = gst_debug_bin_to_dot_data (GST_BIN (self->pipeline), GST_DEBUG_GRAPH_SHOW_ALL);
  file = g_strdup_printf ("partyline-%s-%s-%" G_GINT64_FORMAT ".dot", self->name,
                          self->call_id, g_get_real_time ());
  path = g_build_filename (dir, file, NULL);
  if (!g_file_set_contents (path, data, -1, error))
    return NULL;

  return g_steal_pointer (&path);
}

/* --- teardown ----------------------------------------------------------- */

static void
on_pipeline_grace_over (gpointer data)
{
  pl_teardown_release_pipeline_later (data);
}

static void
to_null_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(PlPeer) self = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&self->close_task);
  g_autoptr(GError) error = NULL;
  GstElement *pipeline;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("%s: %s", self->name, error->message);

  g_clear_handle_id (&self->bus_watch_id, g_source_remove);
  self->closed = TRUE;

  /* What the group shares goes once its last pipeline is in NULL. */
  g_clear_object (&self->shared_source);

  /* The receive branch holds Shared through its decoder probe, removed only
   * by the first decoded buffer, and Shared holds the branch: a call that
   * never heard anything would keep both for ever. Break that here, with no
   * streaming thread left. */
  gst_clear_object (&self->shared->receive_bin);

  /* The pipeline is in NULL: the call is over now (`ended`, `all-ended`). */
  g_task_return_boolean (task, TRUE);

  /* Its last ref is dropped on the main thread (bug 13), soon but not in this
   * dispatch. If ICE gathering never completed, webrtcbin may still be called
   * back by libnice once gathering ends (bug 2): keep it a moment longer. */
  pipeline = g_steal_pointer (&self->pipeline);
  self->webrtc = NULL;
  self->source = NULL;
  pl_teardown_lingering_hold ();
  if (g_atomic_int_get (&self->shared->gathering_done))
    pl_teardown_release_pipeline_later (pipeline);
  else
    g_timeout_add_once (GATHERING_GRACE_MS, on_pipeline_grace_over, pipeline);
}

/* The worker pool. The peer keeps its refs on everything here until
 * to_null_cb (), on the main thread. */
static void
close_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  PlPeer *self = task_data;

  /* The shared tee stops feeding this call first, between two buffers. */
  if (self->branch != NULL)
    pl_shared_source_remove_branch (self->shared_source, g_steal_pointer (&self->branch));

  if (gst_element_set_state (self->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_FAILURE)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s did not reach NULL",
                             self->name);
  else
    g_task_return_boolean (task, TRUE);
}

static void
go_to_null (PlPeer *self)
{
  g_autoptr(GTask) task = NULL;

  g_clear_handle_id (&self->drain_timeout_id, g_source_remove);
  task = g_task_new (NULL, NULL, to_null_cb, g_object_ref (self));
  g_task_set_task_data (task, self, NULL);
  pl_worker_run_in_thread (task, close_thread);
}

static gboolean
on_drain_timeout (gpointer user_data)
{
  PlPeer *self = user_data;

  self->drain_timeout_id = 0;
  g_debug ("%s: webrtcbin did not drain in %d ms", self->name, DRAIN_TIMEOUT_MS);
  go_to_null (self);

  return G_SOURCE_REMOVE;
}

/* A weak way back to the main context from webrtcbin's or a streaming thread,
 * for the teardown's own steps (which must not be dropped as cancelled).
 * The promise or pad probe that waits holds one ref, dropped by its destroy
 * notify whether it fired or not (a recording whose EOS never came keeps its
 * probe until the pad goes); the idle source it posts holds another. */
typedef struct {
  gatomicrefcount ref_count;
  GWeakRef        peer_wr;
  GMainContext   *context;
} Drain;

static Drain *
drain_new (PlPeer *self)
{
  Drain *drain = g_new0 (Drain, 1);

  g_atomic_ref_count_init (&drain->ref_count);
  g_weak_ref_init (&drain->peer_wr, self);
  drain->context = g_main_context_ref (self->shared->context);

  return drain;
}

static Drain *
drain_ref (Drain *drain)
{
  g_atomic_ref_count_inc (&drain->ref_count);

  return drain;
}

static gboolean
on_drained_idle (gpointer data)
{
  Drain *drain = data;
  g_autoptr(PlPeer) self = g_weak_ref_get (&drain->peer_wr);

  /* Goes on unless the drain timeout already did. */
  if (self != NULL && self->drain_timeout_id != 0)
    go_to_null (self);

  return G_SOURCE_REMOVE;
}

/* Any thread: it holds no ref on the peer. */
static void
drain_unref (gpointer data)
{
  Drain *drain = data;

  if (!g_atomic_ref_count_dec (&drain->ref_count))
    return;

  g_weak_ref_clear (&drain->peer_wr);
  g_main_context_unref (drain->context);
  g_free (drain);
}

/* Posts @drain's next step to the main context. */
static void
drain_post (Drain       *drain,
            GSourceFunc  func,
            const char  *name)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_callback (source, func, drain_ref (drain), drain_unref);
  g_source_set_static_name (source, name);
  g_source_attach (source, drain->context);
}

/* webrtcbin's pc thread: every operation queued before get-stats is done. */
static void
on_drain_reply (GstPromise *promise,
                gpointer    user_data)
{
  Drain *drain = user_data;

  /* No ref on the peer is taken here: its last ref must never drop on this
   * thread (bug 13). The main context looks it up again. */
  drain_post (drain, on_drained_idle, "[partyline] peer drained");
  gst_promise_unref (promise);
}

/* 3b. Drain webrtcbin's operation queue: the reply to get-stats means every
 * operation queued before it (a set-remote-description in flight) is done.
 * Then 4. NULL, off the main loop. */
static void
drain_then_null (PlPeer *self)
{
  GstPromise *promise;

  if (!self->started) {
    go_to_null (self);
    return;
  }

  self->drain_timeout_id = g_timeout_add (DRAIN_TIMEOUT_MS, on_drain_timeout, self);
  promise = gst_promise_new_with_change_func (on_drain_reply, drain_new (self), drain_unref);
  g_signal_emit_by_name (self->webrtc, "get-stats", NULL, promise);
}

static gboolean
on_record_timeout (gpointer user_data)
{
  PlPeer *self = user_data;

  self->record_timeout_id = 0;
  g_debug ("%s: the recording did not finish in %d ms", self->name, RECORD_EOS_TIMEOUT_MS);
  drain_then_null (self);

  return G_SOURCE_REMOVE;
}

static gboolean
on_recorded_idle (gpointer data)
{
  Drain *drain = data;
  g_autoptr(PlPeer) self = g_weak_ref_get (&drain->peer_wr);

  if (self != NULL && self->record_timeout_id != 0) {
    g_clear_handle_id (&self->record_timeout_id, g_source_remove);
    drain_then_null (self);
  }

  return G_SOURCE_REMOVE;
}

/* The recording's streaming thread: EOS reached the file. */
static GstPadProbeReturn
on_record_sink_event (GstPad          *pad,
                      GstPadProbeInfo *info,
                      gpointer         user_data)
{
  Drain *drain = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;

  drain_post (drain, on_recorded_idle, "[partyline] recording finished");

  return GST_PAD_PROBE_REMOVE;
}

static void
finish_recording (PlPeer *self)
{
  g_autoptr(GstElement) sink = gst_bin_get_by_name (GST_BIN (self->shared->receive_bin), "sink");
  g_autoptr(GstPad) sink_pad = sink ? gst_element_get_static_pad (sink, "sink") : NULL;
  g_autoptr(GstPad) branch_pad = gst_element_get_static_pad (self->shared->receive_bin, "sink");

  if (sink_pad == NULL || branch_pad == NULL) {
    drain_then_null (self);
    return;
  }

  self->record_timeout_id = g_timeout_add (RECORD_EOS_TIMEOUT_MS, on_record_timeout, self);
  gst_pad_add_probe (sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_record_sink_event,
                     drain_new (self), drain_unref);
  gst_pad_send_event (branch_pad, gst_event_new_eos ());
}

void
pl_peer_close_async (PlPeer             *self,
                     GAsyncReadyCallback callback,
                     gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (PL_IS_PEER (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, pl_peer_close_async);

  if (self->close_task != NULL) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "%s is already closing",
                             self->name);
    return;
  }
  if (self->closed || (self->pipeline == NULL && !self->building)) {
    self->closed = TRUE;
    g_task_return_boolean (task, TRUE);
    return;
  }
  self->close_task = g_steal_pointer (&task);

  /* 1. Late callbacks see the call cancelled (the call has done it already). */
  g_cancellable_cancel (self->cancellable);

  /* The worker is still building: start_cb () goes on from here. */
  if (!self->building)
    continue_close (self);
}

static void
continue_close (PlPeer *self)
{
  if (self->pipeline == NULL) {
    g_autoptr(GTask) task = g_steal_pointer (&self->close_task);

    self->closed = TRUE;
    g_task_return_boolean (task, TRUE);
    return;
  }

  /* 3. Our handlers go before NULL; running ones still check the cancellable. */
  if (self->webrtc != NULL)
    g_signal_handlers_disconnect_matched (self->webrtc, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                                          self->shared);

  /* A recording gets its last Ogg page before anything stops. */
  if (self->config->sink == PL_SINK_RECORD && g_atomic_int_get (&self->shared->receive_linked)) {
    finish_recording (self);
    return;
  }

  drain_then_null (self);
}

gboolean
pl_peer_close_finish (PlPeer       *self,
                      GAsyncResult *result,
                      GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
