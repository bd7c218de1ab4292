/* test-two-lines.c — two PlLines on an in-process PlServer: one real call
 *
 * Copyright 2026 The Partyline authors
 *
 * In the style of webrtcbin's own tests (gst-plugins-bad,
 * tests/check/elements/webrtcbin.c): everything in one process, on one main
 * context. A PlServer listens on 127.0.0.1, port 0, with a token; 1001
 * (tone:440) and 1002 (tone:660) register on it, 1001 dials, 1002 answers
 * when the call is added. Each must hear the other's tone, through the
 * phone's own analysis (the call's `media` signal, as partyline-cli's
 * `media` event): twice in a row within ±5 Hz, as wait_tone () in
 * tests/lib/partyline.py. Then 1001 hangs up, both calls end, both
 * lines shut down, and every line, call and the server is finalized, and no
 * peer, webrtcbin or nice agent is left (pl-resources.h).
 *
 * Nothing sleeps: every wait is WAIT_FOR, iterating the main context until
 * the condition holds, under its own deadline (15 s, times
 * $PARTYLINE_TIMEOUT_MULTIPLIER) that fails the test saying what it waited
 * for and what each side saw. ICE is on 127.0.0.1 only, and meson runs the
 * test in tests/netns-run.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-call.h"
#include "pl-line.h"
#include "pl-media.h"
#include "pl-resources.h"
#include "pl-server.h"

#include <math.h>

#define TOKEN        "two-lines-token"
#define TONE_TOL_HZ  5.0   /* as near () in tests/lib/partyline.py */
#define WAIT_SECONDS 15    /* one wait, as plproc.WAIT_TIMEOUT */

typedef struct _Test Test;

typedef struct {
  Test       *test;
  const char *number;
  double      tone_hz;        /* what it sends */
  double      expect_hz;      /* what it must hear: the other side's tone */

  PlLine     *line;
  gboolean    registered;
  PlCall     *call;           /* a ref of ours, from call-added */
  PlCallState state;
  gboolean    first_audio;
  GArray     *heard;          /* double: every frequency its call reported */
  guint       in_a_row;       /* consecutive reports near expect_hz */
  gboolean    removed;        /* call-removed */
  gboolean    shut_down;
} Side;

struct _Test {
  PlServer *server;
  Side      caller;
  Side      callee;
  gboolean  hanging_up;     /* from here on a call may end */
};

static double
timeout_multiplier (void)
{
  const char *text = g_getenv ("PARTYLINE_TIMEOUT_MULTIPLIER");
  double value = text != NULL ? g_ascii_strtod (text, NULL) : 1.0;

  return value > 0 ? value : 1.0;
}

static gboolean
on_deadline (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;

  return G_SOURCE_REMOVE;
}

static char *
describe_side (Side *side)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "%s (sends %.0f Hz, expects %.0f Hz): %s, ", side->number,
                          side->tone_hz, side->expect_hz,
                          side->registered ? "registered" : "not registered");
  if (side->call == NULL) {
    g_string_append (out, "no call");
  } else {
    const GError *error = pl_call_get_error (side->call);

    g_string_append_printf (out, "call %s, reason %s%s%s, first audio %s, heard [",
                            pl_call_state_to_string (side->state),
                            pl_call_get_reason (side->call) ? pl_call_get_reason (side->call)
                                                            : "none",
                            error != NULL ? ", error: " : "",
                            error != NULL ? error->message : "",
                            side->first_audio ? "yes" : "no");
    for (guint i = 0; i < side->heard->len; i++)
      g_string_append_printf (out, "%s%.1f", i > 0 ? ", " : "",
                              g_array_index (side->heard, double, i));
    g_string_append (out, "]");
  }

  return g_string_free (out, FALSE);
}

/* Fails the test saying @why, and what each side saw. */
static void
fail_with_state (Test       *t,
                 const char *why)
{
  g_autofree char *caller = describe_side (&t->caller);
  g_autofree char *callee = describe_side (&t->callee);

  g_error ("%s; %s; %s", why, caller, callee);
}

static void
fail_waiting (Test       *t,
              const char *what)
{
  g_autofree char *why = g_strdup_printf ("no %s within %.0f s", what,
                                          WAIT_SECONDS * timeout_multiplier ());

  fail_with_state (t, why);
}

/* Iterates the main context until @cond holds, or fails the test after
 * WAIT_SECONDS (scaled). */
#define WAIT_FOR(t, cond, what) \
  G_STMT_START { \
    gboolean expired_ = FALSE; \
    guint deadline_id_ = g_timeout_add ((guint) (WAIT_SECONDS * 1000 * timeout_multiplier ()), \
                                        on_deadline, &expired_); \
    while (!(cond) && !expired_) \
      g_main_context_iteration (NULL, TRUE); \
    if (!expired_) \
      g_source_remove (deadline_id_); \
    if (!(cond)) \
      fail_waiting ((t), (what)); \
  } G_STMT_END

static gboolean
hears (Side *side)
{
  return side->in_a_row >= 2;
}

static void
on_call_state_changed (PlCall  *call,
                       int      state,
                       int      old_state,
                       gpointer user_data)
{
  Side *side = user_data;

  g_test_message ("%s: call with %s %s -> %s", side->number, pl_call_get_peer (call),
                  pl_call_state_to_string (old_state), pl_call_state_to_string (state));
  side->state = state;
  if (state == PL_CALL_STATE_ENDED && !side->test->hanging_up)
    fail_with_state (side->test, "a call ended before the hang-up");
}

static void
on_call_first_audio (PlCall  *call,
                     double   ms,
                     gpointer user_data)
{
  Side *side = user_data;

  g_test_message ("%s: first audio from %s after %.1f ms", side->number,
                  pl_call_get_peer (call), ms);
  side->first_audio = TRUE;
}

static void
on_call_media (PlCall  *call,
               double   hz,
               double   db,
               gpointer user_data)
{
  Side *side = user_data;

  g_test_message ("%s: hears %.1f Hz at %.1f dB from %s", side->number, hz, db,
                  pl_call_get_peer (call));
  g_array_append_val (side->heard, hz);
  if (fabs (hz - side->expect_hz) <= TONE_TOL_HZ)
    side->in_a_row++;
  else
    side->in_a_row = 0;
}

static void
on_call_added (PlLine  *line,
               PlCall  *call,
               gpointer user_data)
{
  Side *side = user_data;

  g_assert_null (side->call);
  side->call = g_object_ref (call);
  side->state = pl_call_get_state (call);
  g_signal_connect (call, "state-changed", G_CALLBACK (on_call_state_changed), side);
  g_signal_connect (call, "first-audio", G_CALLBACK (on_call_first_audio), side);
  g_signal_connect (call, "media", G_CALLBACK (on_call_media), side);

  /* The callee answers as the call arrives. */
  if (pl_call_get_direction (call) == PL_CALL_DIRECTION_INCOMING) {
    g_autoptr(GError) error = NULL;

    g_assert_cmpint (side->state, ==, PL_CALL_STATE_INCOMING);
    pl_call_answer (call, &error);
    g_assert_no_error (error);
  }
}

static void
on_call_removed (PlLine  *line,
                 PlCall  *call,
                 gpointer user_data)
{
  Side *side = user_data;

  g_assert_true (call == side->call);
  g_assert_cmpint (pl_call_get_state (call), ==, PL_CALL_STATE_ENDED);
  side->removed = TRUE;
}

static void
on_unregistered (PlLine     *line,
                 const char *reason,
                 gpointer    user_data)
{
  Side *side = user_data;
  g_autofree char *why = NULL;

  if (side->shut_down || side->test->hanging_up)
    return;

  why = g_strdup_printf ("%s unregistered (%s) before the hang-up", side->number, reason);
  fail_with_state (side->test, why);
}

static void
register_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Side *side = user_data;
  g_autoptr(GError) error = NULL;

  pl_line_register_finish (PL_LINE (object), result, &error);
  g_assert_no_error (error);
  side->registered = TRUE;
}

static void
shutdown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Side *side = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (pl_line_shutdown_finish (PL_LINE (object), result, &error));
  g_assert_no_error (error);
  side->shut_down = TRUE;
}

static void
side_init (Side       *side,
           Test       *test,
           const char *number,
           double      tone_hz,
           double      expect_hz,
           const char *server_url)
{
  g_autoptr(PlMediaConfig) media = pl_media_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *source = g_strdup_printf ("tone:%.0f", tone_hz);
  const char *loopback[] = { "127.0.0.1", NULL };

  side->test = test;
  side->number = number;
  side->tone_hz = tone_hz;
  side->expect_hz = expect_hz;
  side->heard = g_array_new (FALSE, FALSE, sizeof (double));

  /* As partyline-cli --source tone:N --sink fake --analyze
   * --ice-address 127.0.0.1. */
  pl_media_config_set_source (media, source, &error);
  g_assert_no_error (error);
  pl_media_config_set_sink (media, "fake", &error);
  g_assert_no_error (error);
  pl_media_config_take_ice_addresses (media, g_strdupv ((char **) loopback), &error);
  g_assert_no_error (error);
  media->analyze = TRUE;

  side->line = pl_line_new (server_url, number, TOKEN, media);
  pl_line_set_register_timeout (side->line, (guint) ceil (10 * timeout_multiplier ()));
  g_signal_connect (side->line, "call-added", G_CALLBACK (on_call_added), side);
  g_signal_connect (side->line, "call-removed", G_CALLBACK (on_call_removed), side);
  g_signal_connect (side->line, "unregistered", G_CALLBACK (on_unregistered), side);
}

static gboolean
no_phone_objects_left (void)
{
  PlResources r;

  pl_resources_get (&r);

  return r.calls == 0 && r.peers == 0 && r.webrtcbins == 0 && r.nice_agents == 0;
}

static void
test_two_lines_call (void)
{
  Test t = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  PlCall *dialed;
  PlResources r;

  /* The server. */
  t.server = pl_server_new ();
  pl_server_set_token (t.server, TOKEN);
  pl_server_listen (t.server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_server_get_port (t.server), !=, 0);
  url = g_strdup_printf ("ws://127.0.0.1:%u/ws", pl_server_get_port (t.server));

  /* Two lines register. */
  side_init (&t.caller, &t, "1001", 440, 660, url);
  side_init (&t.callee, &t, "1002", 660, 440, url);
  pl_line_register_async (t.caller.line, NULL, register_cb, &t.caller);
  pl_line_register_async (t.callee.line, NULL, register_cb, &t.callee);
  WAIT_FOR (&t, t.caller.registered && t.callee.registered, "registration of both lines");
  g_assert_true (pl_line_is_registered (t.caller.line));
  g_assert_true (pl_line_is_registered (t.callee.line));
  g_assert_cmpuint (pl_server_get_n_connections (t.server), ==, 2);

  /* 1001 dials 1002, which answers when the call is added. */
  dialed = pl_line_dial (t.caller.line, "1002", g_get_monotonic_time (), &error);
  g_assert_no_error (error);
  g_assert_nonnull (dialed);
  g_assert_true (dialed == t.caller.call);
  g_assert_cmpint (pl_call_get_direction (dialed), ==, PL_CALL_DIRECTION_OUTGOING);
  g_assert_cmpstr (pl_call_get_peer (dialed), ==, "1002");

  WAIT_FOR (&t, t.callee.call != NULL, "incoming call at 1002");
  g_assert_cmpint (pl_call_get_direction (t.callee.call), ==, PL_CALL_DIRECTION_INCOMING);
  g_assert_cmpstr (pl_call_get_peer (t.callee.call), ==, "1001");
  g_assert_cmpstr (pl_call_get_id (t.callee.call), ==, pl_call_get_id (t.caller.call));

  WAIT_FOR (&t, t.caller.state == PL_CALL_STATE_ACTIVE && t.callee.state == PL_CALL_STATE_ACTIVE,
            "active call on both sides");
  g_assert_cmpfloat (pl_call_get_setup_ms (t.caller.call), >=, 0);
  g_assert_cmpuint (pl_server_get_n_calls (t.server), ==, 1);

  /* Each hears the other: the phone's own analysis of what it receives. */
  WAIT_FOR (&t, hears (&t.caller) && hears (&t.callee),
            "tone heard twice in a row on both sides");
  g_assert_true (t.caller.first_audio);
  g_assert_true (t.callee.first_audio);

  /* 1001 hangs up; both calls end with its reason. */
  t.hanging_up = TRUE;
  pl_call_hang_up (t.caller.call, PL_HANGUP_NORMAL);
  WAIT_FOR (&t, t.caller.removed && t.callee.removed, "ended and removed call on both sides");
  g_assert_cmpstr (pl_call_get_reason (t.caller.call), ==, "normal");
  g_assert_cmpstr (pl_call_get_reason (t.callee.call), ==, "normal");
  g_assert_null (pl_call_get_error (t.caller.call));
  g_assert_null (pl_call_get_error (t.callee.call));
  g_assert_cmpuint (pl_line_get_pipeline_count (t.caller.line), ==, 0);
  g_assert_cmpuint (pl_line_get_pipeline_count (t.callee.line), ==, 0);
  g_assert_null (pl_line_lookup_call (t.caller.line, "1002"));
  g_assert_null (pl_line_lookup_call (t.callee.line, "1001"));

  /* Both lines shut down: every pipeline in NULL, nothing lingering, the
   * WebSockets closed normally. */
  pl_line_shutdown_async (t.caller.line, shutdown_cb, &t.caller);
  pl_line_shutdown_async (t.callee.line, shutdown_cb, &t.callee);
  WAIT_FOR (&t, t.caller.shut_down && t.callee.shut_down, "shutdown of both lines");
  g_assert_false (pl_line_is_registered (t.caller.line));
  g_assert_false (pl_line_is_registered (t.callee.line));

  WAIT_FOR (&t, pl_server_get_n_connections (t.server) == 0, "server without connections");
  g_assert_cmpuint (pl_server_get_n_calls (t.server), ==, 0);
  pl_server_shutdown (t.server);

  /* Every object goes with our last ref. */
  g_signal_handlers_disconnect_by_data (t.caller.call, &t.caller);
  g_signal_handlers_disconnect_by_data (t.callee.call, &t.callee);
  g_assert_finalize_object (g_steal_pointer (&t.caller.call));
  g_assert_finalize_object (g_steal_pointer (&t.callee.call));
  g_assert_finalize_object (g_steal_pointer (&t.caller.line));
  g_assert_finalize_object (g_steal_pointer (&t.callee.line));
  g_assert_finalize_object (g_steal_pointer (&t.server));

  /* And what the calls held: their PlPeers, webrtcbins and nice agents,
   * released on the main loop after NULL (teardown step 6). */
  WAIT_FOR (&t, no_phone_objects_left (), "release of every peer, webrtcbin and nice agent");
  pl_resources_get (&r);
  g_assert_cmpuint (r.calls, ==, 0);
  g_assert_cmpuint (r.peers, ==, 0);
  g_assert_cmpuint (r.webrtcbins, ==, 0);
  g_assert_cmpuint (r.nice_agents, ==, 0);

  g_array_unref (t.caller.heard);
  g_array_unref (t.callee.heard);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* PlSignalingClient's session asks the default proxy resolver, which
   * would read GSettings; the isolated directories have no schemas. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);

  if (!pl_media_init (&error))
    g_error ("cannot initialize GStreamer: %s", error->message);

  g_test_add_func ("/partyline/phone/two-lines/call", test_two_lines_call);

  return g_test_run ();
}
