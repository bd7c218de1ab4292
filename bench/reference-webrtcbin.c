/* reference-webrtcbin.c — two plain webrtcbin peers back to back in one process
 *
 * The minimal reference that Partyline's benchmarks compare against (issue 4),
 * the setting of the "Measured on this platform" table of
 * docs/webrtcbin-1.22.md: no Partyline code, no signaling server, no process
 * boundary. Each call builds two pipelines from scratch,
 *
 *   audiotestsrc is-live=true freq=F ! audioconvert ! audioresample !
 *     opusenc ! rtpopuspay pt=96 ! webrtcbin    (and, on pad-added,)
 *   webrtcbin. ! rtpopusdepay ! opusdec ! audioconvert ! fakesink
 *
 * caller A (440 Hz) offers, callee B (660 Hz) answers; SDP and ICE candidates
 * are handed over on the main loop. By default webrtcbin and libnice keep
 * their own defaults (jitter buffer 200 ms, libnice's STUN pacing, UPnP on)
 * and nothing is pre-warmed, so the first call of the process generates the
 * DTLS certificate. The only addition is the loopback host candidate
 * (`add-local-ip-address`, --ice-address), without which libnice gathers
 * nothing in a loopback-only namespace. Options can reproduce Partyline's
 * settings instead (--latency, --pacing, --no-upnp, --prewarm).
 *
 * Times run from "start building the pipelines": offer created, ICE connected
 * and connected (A's ice-connection-state / connection-state), first decoded
 * buffer on A (first_audio_ms) and on B. Once both sides hear audio, each
 * pipeline is set to NULL on the main thread, as a plain program does, then
 * its last ref dropped there: the time of each set_state (NULL) (null_ms)
 * and of each final unref, which disposes of the pipeline (unref_ms).
 *
 *   reference-webrtcbin [OPTION…] --calls N    N calls, one JSON line each, then exit
 *   reference-webrtcbin [OPTION…]              one call per `call` line on stdin; `quit`
 *
 * On stdin, `group N` starts N calls at once; once all are done, every
 * caller pipeline goes to NULL on the main thread, one after the other, then
 * every callee pipeline: a `call` line per call, then a `group` line with
 * the time of each side (callers_null_ms + callers_unref_ms: the main-loop
 * stall of a plain program hanging up N calls).
 *
 * A `ready` line is printed first (after the pre-warm, if any). A call that is
 * not done within --timeout seconds is reported with "ok":false and what it
 * reached. Exit status: 0, 1 if a call failed, 2 for bad usage.
 *
 * A benchmark tool, not part of the application. SPDX-License-Identifier: GPL-3.0-or-later
 */

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct _Call Call;
typedef struct _Batch Batch;

typedef struct {
  Call       *call;
  const char *name;        /* "A" (caller) or "B" (callee) */
  GstElement *pipeline;
  GstElement *webrtc;
  gint        audio_seen;       /* atomic: set once, from a streaming thread */
  gint64      first_audio_at;   /* main thread only, like the two below */
  gint64      connected_at;
  gint64      ice_connected_at;
} Peer;

struct _Call {
  gint          ref_count;   /* atomic: the call and every callback in flight */
  Batch        *batch;
  guint         index;
  gint64        started_at;
  gint64        offer_at;
  Peer          a, b;
  gboolean      done;
  gboolean      failed;
  char         *error;
  guint         timeout_id;
  gboolean      closed;      /* pipelines are in NULL: late hops do nothing */
  double        null_ms[2];
  double        unref_ms[2];
};

/* Calls started together (`call` is a batch of one, `group N` of N); they
 * are torn down together once every one of them is done. */
struct _Batch {
  GPtrArray    *calls;
  guint         pending;
  gboolean      group;
};

static struct {
  int        latency_ms;   /* -1: webrtcbin's default */
  int        pacing_ms;    /* -1: libnice's default */
  gboolean   no_upnp;
  gboolean   prewarm;
  char      *ice_address;
  int        timeout_s;
  int        calls;
  GMainLoop *loop;
  gint64     process_start;
  guint      index;
  guint      failed;
  GDataInputStream *input;
} app = { .latency_ms = -1, .pacing_ms = -1, .timeout_s = 10 };

static Call *
call_ref (Call *call)
{
  g_atomic_int_inc (&call->ref_count);
  return call;
}

static void
call_unref (Call *call)
{
  if (g_atomic_int_dec_and_test (&call->ref_count)) {
    g_free (call->error);
    g_free (call);
  }
}

static double
ms_since (Call  *call,
          gint64 at)
{
  return at > 0 ? (at - call->started_at) / 1000.0 : -1;
}

/* --- hops to the main loop ------------------------------------------------ */

typedef struct {
  Call         *call;
  Peer         *peer;
  GstPromise   *promise;
  guint         mline;
  char         *candidate;
  gint64        at;
} Hop;

static void
hop_free (gpointer data)
{
  Hop *hop = data;

  if (hop->promise)
    gst_promise_unref (hop->promise);
  g_free (hop->candidate);
  call_unref (hop->call);
  g_free (hop);
}

static void
hop (GSourceFunc func,
     Hop        *h)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, h, hop_free);
  g_source_attach (source, NULL);
  g_source_unref (source);
}

static Hop *
hop_new (Peer *peer)
{
  Hop *h = g_new0 (Hop, 1);

  h->call = call_ref (peer->call);
  h->peer = peer;
  return h;
}

static void call_done (Call *call);

static void
fail (Call       *call,
      const char *what)
{
  if (call->done || call->closed)
    return;
  call->failed = TRUE;
  if (call->error == NULL)
    call->error = g_strdup (what);
  call_done (call);
}

static void
check_done (Call *call)
{
  if (!call->done && !call->closed && call->a.connected_at > 0 &&
      call->a.first_audio_at > 0 && call->b.first_audio_at > 0)
    call_done (call);
}

/* --- negotiation ------------------------------------------------------------ */

static void on_answer_created (GstPromise *promise, gpointer user_data);

static gboolean
apply_offer (gpointer data)
{
  Hop *h = data;
  Call *call = h->call;
  const GstStructure *reply;
  GstWebRTCSessionDescription *offer = NULL;
  GstPromise *promise;

  if (call->closed)
    return G_SOURCE_REMOVE;
  reply = gst_promise_get_reply (h->promise);
  if (reply == NULL || !gst_structure_has_field (reply, "offer")) {
    fail (call, "create-offer gave no offer");
    return G_SOURCE_REMOVE;
  }
  gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, NULL);
  call->offer_at = g_get_monotonic_time ();

  g_signal_emit_by_name (call->a.webrtc, "set-local-description", offer, NULL);
  g_signal_emit_by_name (call->b.webrtc, "set-remote-description", offer, NULL);
  gst_webrtc_session_description_free (offer);

  promise = gst_promise_new_with_change_func (on_answer_created, hop_new (&call->b), hop_free);
  g_signal_emit_by_name (call->b.webrtc, "create-answer", NULL, promise);

  return G_SOURCE_REMOVE;
}

static gboolean
apply_answer (gpointer data)
{
  Hop *h = data;
  Call *call = h->call;
  const GstStructure *reply;
  GstWebRTCSessionDescription *answer = NULL;

  if (call->closed)
    return G_SOURCE_REMOVE;
  reply = gst_promise_get_reply (h->promise);
  if (reply == NULL || !gst_structure_has_field (reply, "answer")) {
    fail (call, "create-answer gave no answer");
    return G_SOURCE_REMOVE;
  }
  gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  g_signal_emit_by_name (call->b.webrtc, "set-local-description", answer, NULL);
  g_signal_emit_by_name (call->a.webrtc, "set-remote-description", answer, NULL);
  gst_webrtc_session_description_free (answer);

  return G_SOURCE_REMOVE;
}

/* Promise change functions run on webrtcbin's thread: hop with the promise. */
static void
on_offer_created (GstPromise *promise,
                  gpointer    user_data)
{
  Hop *h = hop_new (((Hop *) user_data)->peer);

  h->promise = gst_promise_ref (promise);
  hop (apply_offer, h);
}

static void
on_answer_created (GstPromise *promise,
                   gpointer    user_data)
{
  Hop *h = hop_new (((Hop *) user_data)->peer);

  h->promise = gst_promise_ref (promise);
  hop (apply_answer, h);
}

static gboolean
create_offer (gpointer data)
{
  Hop *h = data;
  GstPromise *promise;

  if (h->call->closed)
    return G_SOURCE_REMOVE;
  promise = gst_promise_new_with_change_func (on_offer_created, hop_new (&h->call->a), hop_free);
  g_signal_emit_by_name (h->call->a.webrtc, "create-offer", NULL, promise);

  return G_SOURCE_REMOVE;
}

static void
on_negotiation_needed (GstElement *webrtc,
                       gpointer    user_data)
{
  Peer *peer = user_data;

  /* Only the caller offers. */
  if (peer == &peer->call->a)
    hop (create_offer, hop_new (peer));
}

static gboolean
add_candidate (gpointer data)
{
  Hop *h = data;
  Peer *other = h->peer == &h->call->a ? &h->call->b : &h->call->a;

  if (!h->call->closed)
    g_signal_emit_by_name (other->webrtc, "add-ice-candidate", h->mline, h->candidate);

  return G_SOURCE_REMOVE;
}

static void
on_ice_candidate (GstElement *webrtc,
                  guint       mline,
                  const char *candidate,
                  gpointer    user_data)
{
  Hop *h = hop_new (user_data);

  h->mline = mline;
  h->candidate = g_strdup (candidate);
  hop (add_candidate, h);
}

/* --- states and audio -------------------------------------------------------- */

static gboolean
state_changed (gpointer data)
{
  Hop *h = data;
  Peer *peer = h->peer;
  GstWebRTCPeerConnectionState pc;
  GstWebRTCICEConnectionState ice;

  if (h->call->closed)
    return G_SOURCE_REMOVE;
  g_object_get (peer->webrtc, "connection-state", &pc, "ice-connection-state", &ice, NULL);
  if (peer->ice_connected_at == 0 && (ice == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED ||
                                      ice == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED))
    peer->ice_connected_at = g_get_monotonic_time ();
  if (peer->connected_at == 0 && pc == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    peer->connected_at = g_get_monotonic_time ();
  if (pc == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED || ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED)
    fail (h->call, "connection failed");
  else
    check_done (h->call);

  return G_SOURCE_REMOVE;
}

static void
on_state_notify (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  hop (state_changed, hop_new (user_data));
}

static gboolean
audio_heard (gpointer data)
{
  Hop *h = data;

  h->peer->first_audio_at = h->at;
  check_done (h->call);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
on_decoded (GstPad          *pad,
            GstPadProbeInfo *info,
            gpointer         user_data)
{
  Peer *peer = user_data;
  gint64 now = g_get_monotonic_time ();

  /* A streaming thread; the call outlives it (NULL stops it first). */
  if (g_atomic_int_compare_and_exchange (&peer->audio_seen, 0, 1)) {
    Hop *h = hop_new (peer);

    h->at = now;
    hop (audio_heard, h);
  }

  return GST_PAD_PROBE_REMOVE;
}

static void
on_pad_added (GstElement *webrtc,
              GstPad     *pad,
              gpointer    user_data)
{
  Peer *peer = user_data;
  GstElement *branch, *decoder;
  GstPad *sink, *decoded;
  GError *error = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  branch = gst_parse_bin_from_description ("rtpopusdepay ! opusdec name=decoder ! audioconvert ! "
                                           "fakesink sync=false async=false", TRUE, &error);
  g_assert_no_error (error);
  gst_bin_add (GST_BIN (peer->pipeline), branch);
  decoder = gst_bin_get_by_name (GST_BIN (branch), "decoder");
  decoded = gst_element_get_static_pad (decoder, "src");
  gst_object_unref (decoder);
  gst_pad_add_probe (decoded, GST_PAD_PROBE_TYPE_BUFFER, on_decoded, peer, NULL);
  gst_object_unref (decoded);
  gst_element_sync_state_with_parent (branch);
  sink = gst_element_get_static_pad (branch, "sink");
  gst_pad_link (pad, sink);
  gst_object_unref (sink);
}

/* --- one call ---------------------------------------------------------------- */

static void
build_peer (Call       *call,
            Peer       *peer,
            const char *name,
            int         freq)
{
  g_autofree char *description = g_strdup_printf (
      "audiotestsrc is-live=true wave=sine freq=%d volume=0.3 ! audioconvert ! audioresample ! "
      "audio/x-raw,rate=48000,channels=1 ! opusenc ! rtpopuspay pt=96 ! "
      "application/x-rtp,media=audio,encoding-name=OPUS,payload=96 ! webrtcbin name=webrtc", freq);
  GError *error = NULL;
  GstElement *ice = NULL;
  GObject *agent = NULL;
  gboolean added = FALSE;

  peer->call = call;
  peer->name = name;
  peer->pipeline = gst_parse_launch (description, &error);
  g_assert_no_error (error);
  peer->webrtc = gst_bin_get_by_name (GST_BIN (peer->pipeline), "webrtc");
  gst_object_unref (peer->webrtc);   /* the pipeline holds it */

  if (app.latency_ms >= 0)
    g_object_set (peer->webrtc, "latency", (guint) app.latency_ms, NULL);
  g_object_get (peer->webrtc, "ice-agent", &ice, NULL);
  if (app.ice_address)
    g_signal_emit_by_name (ice, "add-local-ip-address", app.ice_address, &added);
  if (app.pacing_ms >= 0 || app.no_upnp) {
    g_object_get (ice, "agent", &agent, NULL);
    if (app.pacing_ms >= 0)
      g_object_set (agent, "stun-pacing-timer", (guint) app.pacing_ms, NULL);
    if (app.no_upnp)
      g_object_set (agent, "upnp", FALSE, NULL);
    g_object_unref (agent);
  }
  gst_object_unref (ice);

  g_signal_connect (peer->webrtc, "on-negotiation-needed", G_CALLBACK (on_negotiation_needed), peer);
  g_signal_connect (peer->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), peer);
  g_signal_connect (peer->webrtc, "pad-added", G_CALLBACK (on_pad_added), peer);
  g_signal_connect (peer->webrtc, "notify::connection-state", G_CALLBACK (on_state_notify), peer);
  g_signal_connect (peer->webrtc, "notify::ice-connection-state", G_CALLBACK (on_state_notify),
                    peer);
}

static gboolean
on_call_timeout (gpointer user_data)
{
  Call *call = user_data;

  call->timeout_id = 0;
  fail (call, "timed out");
  return G_SOURCE_REMOVE;
}

static void next (void);

static void
print_call (Call *call)
{
  printf ("{\"event\":\"call\",\"index\":%u,\"ok\":%s,", call->index,
          call->failed ? "false" : "true");
  if (call->error)
    printf ("\"error\":\"%s\",", call->error);
  printf ("\"offer_ms\":%.1f,\"ice_connected_ms\":%.1f,\"connected_ms\":%.1f,"
          "\"first_audio_ms\":%.1f,\"callee_ice_connected_ms\":%.1f,\"callee_connected_ms\":%.1f,"
          "\"callee_first_audio_ms\":%.1f,\"null_ms\":[%.2f,%.2f],\"unref_ms\":[%.2f,%.2f],"
          "\"teardown_ms\":%.2f,\"t\":%.3f}\n",
          ms_since (call, call->offer_at), ms_since (call, call->a.ice_connected_at),
          ms_since (call, call->a.connected_at), ms_since (call, call->a.first_audio_at),
          ms_since (call, call->b.ice_connected_at), ms_since (call, call->b.connected_at),
          ms_since (call, call->b.first_audio_at),
          call->null_ms[0], call->null_ms[1], call->unref_ms[0], call->unref_ms[1],
          call->null_ms[0] + call->null_ms[1] + call->unref_ms[0] + call->unref_ms[1],
          (g_get_monotonic_time () - app.process_start) / 1e6);
}

/* A plain program: every pipeline to NULL on the main thread, one after the
 * other, the callers' first (a phone hanging up all its calls), then the
 * callees'; then each pipeline's last ref is dropped, on the main thread too
 * (docs/webrtcbin-1.22.md, bug 13), which disposes of it. The main loop is blocked
 * for all of it. */
static void
close_batch (Batch *batch)
{
  double totals[2] = { 0, 0 }, unref_totals[2] = { 0, 0 };
  guint failed = 0;

  for (int side = 0; side < 2; side++) {
    gint64 t_side = g_get_monotonic_time ();

    for (guint i = 0; i < batch->calls->len; i++) {
      Call *call = g_ptr_array_index (batch->calls, i);
      Peer *peer = side == 0 ? &call->a : &call->b;
      gint64 t0 = g_get_monotonic_time ();

      g_signal_handlers_disconnect_by_data (peer->webrtc, peer);
      gst_element_set_state (peer->pipeline, GST_STATE_NULL);
      call->null_ms[side] = (g_get_monotonic_time () - t0) / 1000.0;
    }
    totals[side] = (g_get_monotonic_time () - t_side) / 1000.0;
  }

  for (int side = 0; side < 2; side++) {
    gint64 t_side = g_get_monotonic_time ();

    for (guint i = 0; i < batch->calls->len; i++) {
      Call *call = g_ptr_array_index (batch->calls, i);
      Peer *peer = side == 0 ? &call->a : &call->b;
      gint64 t0 = g_get_monotonic_time ();

      call->closed = TRUE;
      gst_clear_object (&peer->pipeline);
      call->unref_ms[side] = (g_get_monotonic_time () - t0) / 1000.0;
    }
    unref_totals[side] = (g_get_monotonic_time () - t_side) / 1000.0;
  }

  for (guint i = 0; i < batch->calls->len; i++) {
    Call *call = g_ptr_array_index (batch->calls, i);

    print_call (call);
    if (call->failed)
      failed++;
  }
  if (batch->group)
    printf ("{\"event\":\"group\",\"count\":%u,\"ok\":%s,\"failed\":%u,"
            "\"callers_null_ms\":%.2f,\"callees_null_ms\":%.2f,\"callers_unref_ms\":%.2f,"
            "\"callees_unref_ms\":%.2f}\n", batch->calls->len, failed ? "false" : "true", failed,
            totals[0], totals[1], unref_totals[0], unref_totals[1]);
  fflush (stdout);
  app.failed += failed;

  g_ptr_array_unref (batch->calls);   /* drops the calls */
  g_free (batch);
  next ();
}

static void
call_done (Call *call)
{
  call->done = TRUE;
  g_clear_handle_id (&call->timeout_id, g_source_remove);
  if (--call->batch->pending == 0)
    close_batch (call->batch);
}

static Call *
start_call (Batch *batch)
{
  Call *call = g_new0 (Call, 1);

  call->ref_count = 1;
  call->batch = batch;
  call->index = ++app.index;
  g_ptr_array_add (batch->calls, call);
  call->started_at = g_get_monotonic_time ();
  build_peer (call, &call->a, "A", 440);
  build_peer (call, &call->b, "B", 660);
  call->timeout_id = g_timeout_add_seconds (app.timeout_s, on_call_timeout, call);
  return call;
}

static void
start_batch (guint    count,
             gboolean group)
{
  Batch *batch = g_new0 (Batch, 1);

  batch->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_unref);
  batch->pending = count;
  batch->group = group;
  for (guint i = 0; i < count; i++)
    start_call (batch);
  /* Started once all are built, so that `fail` cannot close a half-built batch. */
  for (guint i = 0; i < count; i++) {
    Call *call = g_ptr_array_index (batch->calls, i);

    if (gst_element_set_state (call->b.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
        gst_element_set_state (call->a.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
      fail (call, "could not start the pipelines");
  }
}

/* --- driving ----------------------------------------------------------------- */

static void read_next_line (void);

static void
read_line_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (app.input, result, NULL, NULL);

  if (line == NULL || g_str_equal (g_strstrip (line), "quit")) {
    g_main_loop_quit (app.loop);
    return;
  }
  if (g_str_equal (line, "call")) {
    start_batch (1, FALSE);     /* the next line is read once this call is done */
    return;
  }
  if (g_str_has_prefix (line, "group ")) {
    guint64 count = 0;

    if (g_ascii_string_to_unsigned (line + 6, 10, 1, 200, &count, NULL)) {
      start_batch (count, TRUE);
      return;
    }
  }
  if (line[0] != '\0')
    printf ("{\"event\":\"error\",\"message\":\"unknown command\"}\n");
  fflush (stdout);
  read_next_line ();
}

static void
read_next_line (void)
{
  g_data_input_stream_read_line_async (app.input, G_PRIORITY_DEFAULT, NULL, read_line_cb, NULL);
}

static gboolean
start_next_call (gpointer data)
{
  start_batch (1, FALSE);
  return G_SOURCE_REMOVE;
}

static void
next (void)
{
  if (app.calls > 0) {
    if (app.index < (guint) app.calls)
      g_idle_add (start_next_call, NULL);
    else
      g_main_loop_quit (app.loop);
  } else {
    read_next_line ();
  }
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gint64 t0;
  const GOptionEntry entries[] = {
    { "calls", 0, 0, G_OPTION_ARG_INT, &app.calls, "Make N calls, then exit (default: read "
      "`call` lines on stdin)", "N" },
    { "latency", 0, 0, G_OPTION_ARG_INT, &app.latency_ms, "webrtcbin latency (default: its own, "
      "200)", "MS" },
    { "pacing", 0, 0, G_OPTION_ARG_INT, &app.pacing_ms, "libnice stun-pacing-timer (default: its "
      "own)", "MS" },
    { "no-upnp", 0, 0, G_OPTION_ARG_NONE, &app.no_upnp, "Turn libnice's UPnP off", NULL },
    { "prewarm", 0, 0, G_OPTION_ARG_NONE, &app.prewarm, "Create and drop a dtlsdec first (the "
      "DTLS certificate)", NULL },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &app.ice_address, "Local address to gather "
      "(default 127.0.0.1; \"\" for none)", "IP" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &app.timeout_s, "Seconds a call may take (default 10)",
      "S" },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "reference-webrtcbin: %s\n", error->message);
    return 2;
  }
  if (app.calls < 0 || app.calls > 10000 || app.timeout_s < 1 || app.latency_ms > 10000 ||
      app.pacing_ms > 1000) {
    fprintf (stderr, "reference-webrtcbin: --calls 0–10000, --timeout ≥ 1, --latency ≤ 10000, "
             "--pacing ≤ 1000\n");
    return 2;
  }
  if (app.ice_address == NULL)
    app.ice_address = g_strdup ("127.0.0.1");
  else if (app.ice_address[0] == '\0')
    g_clear_pointer (&app.ice_address, g_free);

  app.process_start = g_get_monotonic_time ();
  gst_init (&argc, &argv);
  t0 = g_get_monotonic_time ();
  if (app.prewarm) {
    GstElement *dtlsdec = gst_element_factory_make ("dtlsdec", NULL);

    if (dtlsdec == NULL) {
      fprintf (stderr, "reference-webrtcbin: no dtlsdec\n");
      return 2;
    }
    gst_object_unref (gst_object_ref_sink (dtlsdec));
  }
  printf ("{\"event\":\"ready\",\"latency\":%d,\"pacing\":%d,\"upnp\":%s,\"prewarm\":%s,"
          "\"prewarm_ms\":%.1f,\"gstreamer\":\"%s\"}\n",
          app.latency_ms, app.pacing_ms, app.no_upnp ? "false" : "true",
          app.prewarm ? "true" : "false", (g_get_monotonic_time () - t0) / 1000.0,
          gst_version_string ());
  fflush (stdout);

  app.loop = g_main_loop_new (NULL, FALSE);
  if (app.calls > 0) {
    g_idle_add (start_next_call, NULL);
  } else {
    g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);

    app.input = g_data_input_stream_new (in);
    read_next_line ();
  }
  g_main_loop_run (app.loop);
  g_main_loop_unref (app.loop);
  g_clear_object (&app.input);

  return app.failed ? 1 : 0;
}
