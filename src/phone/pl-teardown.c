/* pl-teardown.c
 *
 * What lingers after NULL, for the whole process: a call's pipeline in its
 * grace period or in the release queue (docs/webrtcbin-1.22.md, bug 2 and
 * teardown step 6), a graph being written (pl-peer.c, dump_dot_later ()),
 * the shared source's pipelines on their way to NULL (pl-shared-source.c),
 * and DTLS connections whose toggle ref is not yet dropped (bug 20). A
 * phone's `settle` and its shutdown wait for none to be left.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-teardown"

#include "config.h"

#include "pl-teardown.h"

/* Pipelines kept a moment after NULL (bug 2), and who waits for none to be left. */
static guint lingering_count;
static GList *lingering_waiters;

static void
complete_lingering_waiters (void)
{
  GList *waiters = g_steal_pointer (&lingering_waiters);

  for (GList *l = waiters; l != NULL; l = l->next) {
    g_task_return_boolean (l->data, TRUE);
    g_object_unref (l->data);
  }
  g_list_free (waiters);
}

/* GStreamer 1.22.0 with GLib 2.74 work-around (docs/webrtcbin-1.22.md, bug
 * 20): every DTLS connection is finalized on the main thread.
 *
 * A transport's dtlsenc and dtlsdec share a GstDtlsConnection and connect to
 * its signals with g_signal_connect_object () (gstdtlsdec.c, gstdtlsenc.c).
 * The connection also refs itself for each DTLS retransmission timer it
 * arms on the system clock (gstdtlsconnection.c, gst_clock_id_wait_async
 * (..., g_object_ref (self), g_object_unref)); such a timer outlives the
 * handshake by up to its timeout (1 s at first), and the call too. So the
 * connection's last ref may drop on the system clock's thread while the main
 * thread finalizes the call's pipeline and with it dtlsdec, whose dispose
 * invalidates the closures it watches, connected to that very connection:
 * the two threads meet in gsignal.c, "invalid_closure_notify: assertion
 * failed: (handler != NULL)", and the phone aborts (a g_signal_connect_object
 * () handler whose instance and object die on two threads at once). Seen in
 * the races torture under ASan, hang-ups ~0.5 s after the call became active.
 *
 * So each GstDtlsConnection gets a toggle ref of ours as it is constructed
 * (GstDtlsConnection's constructed is wrapped once; the type is registered
 * by the pre-warm, pl-prewarm.c). When that toggle ref is the only one left,
 * on whichever thread, it is dropped from an idle on the main thread, after
 * the pipeline holding dtlsdec is gone. (Reviving the connection in its
 * dispose instead races the reviving thread's own g_object_unref ().) A
 * phone waiting for lingering pipelines (quit) waits for these as well. */
static void (*dtls_connection_constructed) (GObject *object);
static GQuark dtls_connection_quark;
static int dtls_connections_held;  /* atomic; toggle refs not yet dropped */

static gboolean
is_lingering (void)
{
  return lingering_count > 0 || g_atomic_int_get (&dtls_connections_held) > 0;
}

static void on_dtls_connection_toggle (gpointer  data,
                                       GObject  *connection,
                                       gboolean  is_last);

static gboolean
release_dtls_connection_idle (gpointer connection)
{
  g_object_remove_toggle_ref (connection, on_dtls_connection_toggle, NULL);
  if (g_atomic_int_dec_and_test (&dtls_connections_held) && !is_lingering ())
    complete_lingering_waiters ();

  return G_SOURCE_REMOVE;
}

/* Any thread, after the ref count went down to our toggle ref alone. */
static void
on_dtls_connection_toggle (gpointer  data,
                           GObject  *connection,
                           gboolean  is_last)
{
  g_autoptr(GSource) source = NULL;

  /* Once only: nothing refs a connection again once its elements are gone. */
  if (!is_last ||
      !g_object_replace_qdata (connection, dtls_connection_quark,
                               GINT_TO_POINTER (1), GINT_TO_POINTER (2), NULL, NULL))
    return;

  source = g_idle_source_new ();
  g_source_set_callback (source, release_dtls_connection_idle, connection, NULL);
  g_source_set_static_name (source, "[partyline] release a DTLS connection");
  g_source_attach (source, NULL);
}

/* The thread that makes the connection (dtlsdec's connection-id). */
static void
on_dtls_connection_constructed (GObject *connection)
{
  if (dtls_connection_constructed != NULL)
    dtls_connection_constructed (connection);

  g_object_set_qdata (connection, dtls_connection_quark, GINT_TO_POINTER (1));
  g_atomic_int_inc (&dtls_connections_held);
  g_object_add_toggle_ref (connection, on_dtls_connection_toggle, NULL);
}

/* Pipelines in NULL whose last ref is still to drop, on the main thread (bug
 * 13), one per main-loop iteration at low priority: finalizing a webrtcbin
 * joins its threads (0.5–5 ms), and a group hang-up must not stall the loop
 * for all of them at once. */
static GQueue release_queue = G_QUEUE_INIT;
static guint release_id;

static gboolean
on_release_idle (gpointer user_data)
{
  gst_object_unref (g_queue_pop_head (&release_queue));
  pl_teardown_lingering_release ();

  if (g_queue_is_empty (&release_queue)) {
    release_id = 0;
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

void
pl_teardown_lingering_hold (void)
{
  lingering_count++;
}

void
pl_teardown_lingering_release (void)
{
  g_return_if_fail (lingering_count > 0);

  lingering_count--;
  if (!is_lingering ())
    complete_lingering_waiters ();
}

void
pl_teardown_release_pipeline_later (GstElement *pipeline)
{
  g_queue_push_tail (&release_queue, pipeline);

  if (release_id == 0) {
    g_autoptr(GSource) source = g_idle_source_new ();

    g_source_set_priority (source, G_PRIORITY_LOW);
    g_source_set_callback (source, on_release_idle, NULL, NULL);
    g_source_set_static_name (source, "[partyline] release pipelines");
    release_id = g_source_attach (source, NULL);
  }
}

void
pl_teardown_wait_lingering_async (GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);

  g_task_set_source_tag (task, pl_teardown_wait_lingering_async);
  lingering_waiters = g_list_append (lingering_waiters, task);
  if (!is_lingering ())
    complete_lingering_waiters ();
}

gboolean
pl_teardown_wait_lingering_finish (GAsyncResult *result,
                                   GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pl_teardown_guard_dtls_connections (void)
{
  static gsize guarded;
  GType type;

  if (g_atomic_pointer_get (&guarded) != 0)
    return;

  type = g_type_from_name ("GstDtlsConnection");
  if (type == 0 || !g_once_init_enter (&guarded))
    return;

  {
    GObjectClass *klass = g_type_class_ref (type);  /* kept: the class stays */

    dtls_connection_quark = g_quark_from_static_string ("pl-teardown-dtls-connection");
    dtls_connection_constructed = klass->constructed;
    klass->constructed = on_dtls_connection_constructed;
  }
  g_once_init_leave (&guarded, 1);
}
