/* pl-line.c
 *
 * A line is one number registered on one server (GNOME Calls' "origin"), and
 * the call manager of that number: one call per remote number, held in a
 * GHashTable from dial (or arrival) until its pipeline is in NULL.
 *
 * A call that is hanging up leaves the table of live calls at once, so that
 * its call_id is forgotten (late messages are dropped) and the number can be
 * dialed again; it stays in the table of ending calls until its pipeline is in
 * NULL.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-line"

#include "config.h"

#include "pl-line.h"
#include "pl-call-private.h"
#include "pl-phone-error.h"
#include "pl-media-private.h"
#include "pl-prewarm.h"
#include "pl-sdp.h"
#include "pl-shared-source.h"
#include "pl-signaling-client.h"
#include "pl-teardown.h"

/* The longest a shutdown waits for lingering pipelines, after its hang-ups. */
#define SHUTDOWN_LINGER_TIMEOUT_MS 5000

typedef struct {
  GTask      *task;
  GHashTable *pending;  /* PlCall* set: not yet in NULL */
  guint       count;
} Group;

struct _PlLine
{
  GObject            parent_instance;

  char              *server_url;
  char              *number;
  PlMediaConfig     *config;
  PlSignalingClient *signaling;
  gboolean           registered;
  int                auto_answer_ms;
  guint              ring_timeout_s;
  guint              max_calls;

  GHashTable        *calls;        /* number → PlCall (ref), live calls */
  GHashTable        *calls_by_id;  /* call_id → PlCall, live calls */
  GPtrArray         *order;        /* live calls, oldest first */
  GHashTable        *ending;       /* PlCall (ref) set, going to NULL */
  GList             *groups;       /* Group*, hang-ups waiting for NULL */
  GList             *settle_tasks; /* GTask*, waiting for no pipeline at all */
  GTask             *shutdown_task;
};

G_DEFINE_FINAL_TYPE (PlLine, pl_line, G_TYPE_OBJECT)

enum {
  SIGNAL_CALL_ADDED,
  SIGNAL_CALL_REMOVED,
  SIGNAL_UNREGISTERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
group_free (Group *group)
{
  g_clear_object (&group->task);
  g_clear_pointer (&group->pending, g_hash_table_unref);
  g_free (group);
}

static void
complete_groups (PlLine *self,
                 PlCall *ended)
{
  GList *l = self->groups;

  while (l != NULL) {
    GList *next = l->next;
    Group *group = l->data;

    if (ended != NULL)
      g_hash_table_remove (group->pending, ended);

    if (g_hash_table_size (group->pending) == 0) {
      GTask *task = g_steal_pointer (&group->task);

      self->groups = g_list_delete_link (self->groups, l);
      g_task_set_task_data (task, GUINT_TO_POINTER (group->count), NULL);
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      group_free (group);
    }
    l = next;
  }
}

static void
lingering_released_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  pl_teardown_wait_lingering_finish (result, NULL);
  g_task_return_boolean (task, TRUE);
}

/* Settles hand over to the lingering pipelines once no call has a pipeline. */
static void
check_settled (PlLine *self)
{
  GList *tasks;

  if (pl_line_get_pipeline_count (self) > 0)
    return;

  tasks = g_steal_pointer (&self->settle_tasks);
  for (GList *l = tasks; l != NULL; l = l->next)
    pl_teardown_wait_lingering_async (lingering_released_cb, l->data);
  g_list_free (tasks);
}

static void
on_call_ending (PlCall     *call,
                const char *reason,
                gpointer    user_data)
{
  PlLine *self = user_data;
  const char *peer = pl_call_get_peer (call);

  if (g_hash_table_lookup (self->calls, peer) != call)
    return;

  g_hash_table_add (self->ending, g_object_ref (call));
  g_hash_table_remove (self->calls_by_id, pl_call_get_id (call));
  g_ptr_array_remove (self->order, call);
  g_hash_table_remove (self->calls, peer);
}

static void
on_call_state_changed (PlCall  *call,
                       int      state,
                       int      old_state,
                       gpointer user_data)
{
  PlLine *self = user_data;
  g_autoptr(PlCall) ended = NULL;

  if (state != PL_CALL_STATE_ENDED)
    return;

  /* An ended call was always "ending" first. */
  if (!g_hash_table_steal (self->ending, call))
    return;
  ended = call;

  g_signal_handlers_disconnect_by_data (call, self);
  g_signal_emit (self, signals[SIGNAL_CALL_REMOVED], 0, call);
  complete_groups (self, call);
  check_settled (self);
}

static void
add_call (PlLine *self,
          PlCall *call)
{
  g_hash_table_insert (self->calls, g_strdup (pl_call_get_peer (call)), g_object_ref (call));
  g_hash_table_insert (self->calls_by_id, g_strdup (pl_call_get_id (call)), call);
  g_ptr_array_add (self->order, call);

  g_signal_connect_object (call, "ending", G_CALLBACK (on_call_ending), self, 0);
  /* After the call's other handlers: they see ENDED before call-removed. */
  g_signal_connect_object (call, "state-changed", G_CALLBACK (on_call_state_changed), self,
                           G_CONNECT_AFTER);

  g_signal_emit (self, signals[SIGNAL_CALL_ADDED], 0, call);
}

static void
send_hangup (PlLine         *self,
             const char     *call_id,
             PlHangupReason  reason)
{
  g_autoptr(PlMessage) msg = pl_message_new (PL_MESSAGE_HANGUP);

  msg->call_id = g_strdup (call_id);
  msg->reason = g_strdup (pl_hangup_reason_to_string (reason));
  pl_signaling_client_send (self->signaling, msg);
}

static void
handle_incoming_call (PlLine          *self,
                      const PlMessage *msg)
{
  g_autoptr(PlSharedSource) source = NULL;
  g_autoptr(PlCall) call = NULL;
  int payload_type;

  if (g_hash_table_contains (self->calls_by_id, msg->call_id)) {
    g_debug ("ignoring a second `call` for %s", msg->call_id);
    return;
  }
  if (g_hash_table_contains (self->calls, msg->from)) {
    g_message ("refusing a call from %s: already in a call with it", msg->from);
    send_hangup (self, msg->call_id, PL_HANGUP_BUSY);
    return;
  }

  if (pl_line_get_pipeline_count (self) >= self->max_calls) {
    g_message ("refusing a call from %s: %u calls at once already", msg->from, self->max_calls);
    send_hangup (self, msg->call_id, PL_HANGUP_BUSY);
    return;
  }

  payload_type = pl_sdp_find_opus_payload_type (msg->sdp);
  if (payload_type < 0) {
    g_message ("refusing a call from %s: the offer has no Opus audio", msg->from);
    send_hangup (self, msg->call_id, PL_HANGUP_FAILED);
    return;
  }

  source = pl_shared_source_get (self->config, payload_type);
  call = _pl_call_new_incoming (self->signaling, msg, self->config, source);

  add_call (self, call);
  if (self->auto_answer_ms >= 0)
    pl_call_answer_after (call, self->auto_answer_ms);
}

static void
on_signaling_message (PlSignalingClient *signaling,
                      PlMessage         *msg,
                      gpointer           user_data)
{
  PlLine *self = user_data;
  PlCall *call;

  if (msg->type == PL_MESSAGE_CALL) {
    handle_incoming_call (self, msg);
    return;
  }

  if (msg->call_id == NULL) {
    if (msg->type == PL_MESSAGE_ERROR)
      g_message ("server error %s: %s", msg->code, msg->message);
    return;
  }

  call = g_hash_table_lookup (self->calls_by_id, msg->call_id);
  if (call == NULL) {
    /* A call we no longer know: a late message of a hung-up call. */
    g_debug ("dropping %s for unknown call %s", msg->type_name, msg->call_id);
    return;
  }

  _pl_call_handle_message (call, msg);
}

static void shutdown_wait_lingering (GTask *task);

static void
on_signaling_closed (PlSignalingClient *signaling,
                     const char        *reason,
                     gpointer           user_data)
{
  PlLine *self = user_data;
  g_autoptr(GPtrArray) calls = pl_line_get_calls (self);
  gboolean was_registered = self->registered;

  self->registered = FALSE;

  /* Nobody can be told any more: end every call here. */
  for (guint i = 0; i < calls->len; i++)
    _pl_call_lost (g_ptr_array_index (calls, i), PL_HANGUP_DISCONNECTED);

  if (was_registered)
    g_signal_emit (self, signals[SIGNAL_UNREGISTERED], 0, reason);

  if (self->shutdown_task != NULL)
    shutdown_wait_lingering (g_steal_pointer (&self->shutdown_task));
}

static void
pl_line_dispose (GObject *object)
{
  PlLine *self = PL_LINE (object);

  if (self->signaling != NULL)
    g_signal_handlers_disconnect_by_data (self->signaling, self);
  g_clear_object (&self->signaling);
  g_clear_pointer (&self->calls_by_id, g_hash_table_unref);
  g_clear_pointer (&self->order, g_ptr_array_unref);
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_clear_pointer (&self->ending, g_hash_table_unref);
  g_list_free_full (g_steal_pointer (&self->groups), (GDestroyNotify) group_free);
  g_list_free_full (g_steal_pointer (&self->settle_tasks), g_object_unref);

  G_OBJECT_CLASS (pl_line_parent_class)->dispose (object);
}

static void
pl_line_finalize (GObject *object)
{
  PlLine *self = PL_LINE (object);

  g_clear_pointer (&self->config, pl_media_config_free);
  g_free (self->server_url);
  g_free (self->number);

  G_OBJECT_CLASS (pl_line_parent_class)->finalize (object);
}

static void
pl_line_class_init (PlLineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_line_dispose;
  object_class->finalize = pl_line_finalize;

  signals[SIGNAL_CALL_ADDED] =
    g_signal_new ("call-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PL_TYPE_CALL);
  /* Emitted once the call's pipeline is in NULL. */
  signals[SIGNAL_CALL_REMOVED] =
    g_signal_new ("call-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PL_TYPE_CALL);
  /* (reason) the connection to the server was lost or closed. */
  signals[SIGNAL_UNREGISTERED] =
    g_signal_new ("unregistered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
pl_line_init (PlLine *self)
{
  self->auto_answer_ms = -1;
  self->ring_timeout_s = PL_LINE_DEFAULT_RING_TIMEOUT_S;
  self->max_calls = PL_LINE_DEFAULT_MAX_CALLS;
  self->calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->calls_by_id = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->order = g_ptr_array_new ();
  self->ending = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
}

PlLine *
pl_line_new (const char          *server_url,
             const char          *number,
             const char          *token,
             const PlMediaConfig *config)
{
  PlLine *self;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (pl_number_is_valid (number), NULL);
  g_return_val_if_fail (config != NULL, NULL);

  self = g_object_new (PL_TYPE_LINE, NULL);
  self->server_url = g_strdup (server_url);
  self->number = g_strdup (number);
  self->config = pl_media_config_copy (config);
  self->signaling = pl_signaling_client_new (server_url, token);
  g_signal_connect (self->signaling, "message", G_CALLBACK (on_signaling_message), self);
  g_signal_connect (self->signaling, "closed", G_CALLBACK (on_signaling_closed), self);

  return self;
}

const char *
pl_line_get_number (PlLine *self)
{
  g_return_val_if_fail (PL_IS_LINE (self), NULL);

  return self->number;
}

const char *
pl_line_get_server_url (PlLine *self)
{
  g_return_val_if_fail (PL_IS_LINE (self), NULL);

  return self->server_url;
}

gboolean
pl_line_is_registered (PlLine *self)
{
  g_return_val_if_fail (PL_IS_LINE (self), FALSE);

  return self->registered;
}

void
pl_line_set_ring_timeout (PlLine *self,
                          guint   seconds)
{
  g_return_if_fail (PL_IS_LINE (self));

  self->ring_timeout_s = seconds;
}

void
pl_line_set_register_timeout (PlLine *self,
                              guint   seconds)
{
  g_return_if_fail (PL_IS_LINE (self));

  pl_signaling_client_set_register_timeout (self->signaling, seconds);
}

void
pl_line_set_max_calls (PlLine *self,
                       guint   max_calls)
{
  g_return_if_fail (PL_IS_LINE (self));
  g_return_if_fail (max_calls >= 1);

  self->max_calls = max_calls;
}

void
pl_line_set_auto_answer (PlLine *self,
                         int     delay_ms)
{
  g_return_if_fail (PL_IS_LINE (self));

  self->auto_answer_ms = delay_ms;
}

typedef struct {
  guint    pending;
  GError  *error;
} Registration;

static void
registration_free (gpointer data)
{
  Registration *registration = data;

  g_clear_error (&registration->error);
  g_free (registration);
}

/* Registration completes when the server said `registered` and the DTLS key
 * is ready, so that the first call is as fast as every other. */
static void
registration_step_done (GTask  *task,
                        GError *error)
{
  PlLine *self = g_task_get_source_object (task);
  Registration *registration = g_task_get_task_data (task);

  if (error != NULL && registration->error == NULL)
    registration->error = error;
  else if (error != NULL)
    g_error_free (error);

  if (--registration->pending > 0)
    return;

  if (registration->error != NULL) {
    g_task_return_error (task, g_steal_pointer (&registration->error));
    return;
  }

  self->registered = TRUE;
  g_task_return_boolean (task, TRUE);
}

static void
register_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  pl_signaling_client_register_finish (PL_SIGNALING_CLIENT (object), result, &error);
  registration_step_done (task, error);
}

static void
prewarm_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  pl_prewarm_finish (result, &error);
  registration_step_done (task, error);
}

void
pl_line_register_async (PlLine             *self,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  Registration *registration;

  g_return_if_fail (PL_IS_LINE (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pl_line_register_async);
  registration = g_new0 (Registration, 1);
  registration->pending = 2;
  g_task_set_task_data (task, registration, registration_free);

  pl_prewarm_async (cancellable, prewarm_cb, g_object_ref (task));
  pl_signaling_client_register_async (self->signaling, self->number, cancellable,
                                      register_cb, g_steal_pointer (&task));
}

gboolean
pl_line_register_finish (PlLine       *self,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

PlCall *
pl_line_dial (PlLine     *self,
              const char *number,
              gint64      dialed_at,
              GError    **error)
{
  g_autoptr(PlSharedSource) source = NULL;
  g_autoptr(PlCall) call = NULL;

  g_return_val_if_fail (PL_IS_LINE (self), NULL);
  g_return_val_if_fail (number != NULL, NULL);

  if (!pl_number_is_valid (number)) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "'%s' is not a valid number", number);
    return NULL;
  }
  if (g_str_equal (number, self->number)) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE, "cannot call yourself");
    return NULL;
  }
  if (!self->registered) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "not registered with the server");
    return NULL;
  }
  if (g_hash_table_contains (self->calls, number)) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "already in a call with %s", number);
    return NULL;
  }

  if (pl_line_get_pipeline_count (self) >= self->max_calls) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_INVALID_STATE,
                 "at most %u calls at once (some may still be hanging up)", self->max_calls);
    return NULL;
  }

  source = pl_shared_source_get (self->config, PL_OFFER_PAYLOAD_TYPE);
  call = _pl_call_new_outgoing (self->signaling, number, self->config, source,
                                self->ring_timeout_s, dialed_at);
  add_call (self, call);

  return call;
}

PlCall *
pl_line_lookup_call (PlLine     *self,
                     const char *number)
{
  g_return_val_if_fail (PL_IS_LINE (self), NULL);
  g_return_val_if_fail (number != NULL, NULL);

  return g_hash_table_lookup (self->calls, number);
}

GPtrArray *
pl_line_get_calls (PlLine *self)
{
  GPtrArray *calls;

  g_return_val_if_fail (PL_IS_LINE (self), NULL);

  calls = g_ptr_array_copy (self->order, (GCopyFunc) g_object_ref, NULL);
  g_ptr_array_set_free_func (calls, g_object_unref);

  return calls;
}

guint
pl_line_get_pipeline_count (PlLine *self)
{
  g_return_val_if_fail (PL_IS_LINE (self), 0);

  return g_hash_table_size (self->calls) + g_hash_table_size (self->ending);
}

void
pl_line_hang_up_group_async (PlLine             *self,
                             GPtrArray          *calls,
                             PlHangupReason      reason,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  g_autoptr(GPtrArray) members = NULL;
  Group *group;

  g_return_if_fail (PL_IS_LINE (self));

  if (calls != NULL) {
    members = g_ptr_array_ref (calls);
  } else {
    GHashTableIter iter;
    gpointer call;

    members = pl_line_get_calls (self);
    g_hash_table_iter_init (&iter, self->ending);
    while (g_hash_table_iter_next (&iter, &call, NULL))
      g_ptr_array_add (members, g_object_ref (call));
  }

  group = g_new0 (Group, 1);
  group->task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (group->task, pl_line_hang_up_group_async);
  group->pending = g_hash_table_new (NULL, NULL);
  group->count = members->len;

  for (guint i = 0; i < members->len; i++) {
    PlCall *call = g_ptr_array_index (members, i);

    if (pl_call_get_state (call) != PL_CALL_STATE_ENDED)
      g_hash_table_add (group->pending, call);
  }
  self->groups = g_list_append (self->groups, group);

  /* Every teardown starts now; each runs its NULL on the teardown pool, so
   * the group's pipelines go down side by side. */
  for (guint i = 0; i < members->len; i++)
    pl_call_hang_up (g_ptr_array_index (members, i), reason);

  complete_groups (self, NULL);
}

gboolean
pl_line_hang_up_group_finish (PlLine       *self,
                              GAsyncResult *result,
                              guint        *out_count,
                              GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (out_count != NULL)
    *out_count = GPOINTER_TO_UINT (g_task_get_task_data (G_TASK (result)));

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pl_line_settle_async (PlLine             *self,
                      GAsyncReadyCallback callback,
                      gpointer            user_data)
{
  GTask *task;

  g_return_if_fail (PL_IS_LINE (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, pl_line_settle_async);
  self->settle_tasks = g_list_append (self->settle_tasks, task);
  check_settled (self);
}

gboolean
pl_line_settle_finish (PlLine       *self,
                       GAsyncResult *result,
                       GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Shutdown, after the hang-ups and the close: what still lingers after NULL
 * (pl-teardown.c: pipelines in their grace period, the shared source's, DTLS
 * connections whose retransmission timer is still armed, bug 20 in
 * docs/webrtcbin-1.22.md) is waited for, so that a phone ends with none of
 * its pipelines alive; but at most SHUTDOWN_LINGER_TIMEOUT_MS, since a DTLS
 * timer doubles (up to 60 s) while a handshake goes unanswered. */
typedef struct {
  GTask *task;        /* the shutdown; NULL once it has returned */
  guint  timeout_id;
} ShutdownWait;

static void
shutdown_wait_return (ShutdownWait *wait)
{
  g_autoptr(GTask) task = g_steal_pointer (&wait->task);

  g_clear_handle_id (&wait->timeout_id, g_source_remove);
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_shutdown_linger_timeout (gpointer user_data)
{
  ShutdownWait *wait = user_data;

  wait->timeout_id = 0;
  g_message ("shutting down with pipelines or DTLS connections still lingering after %d ms",
             SHUTDOWN_LINGER_TIMEOUT_MS);
  /* @wait stays with the waiter in pl-teardown.c, which frees it. */
  shutdown_wait_return (wait);

  return G_SOURCE_REMOVE;
}

static void
shutdown_lingering_released_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  ShutdownWait *wait = user_data;

  pl_teardown_wait_lingering_finish (result, NULL);
  if (wait->task != NULL)
    shutdown_wait_return (wait);
  g_free (wait);
}

/* Takes @task. */
static void
shutdown_wait_lingering (GTask *task)
{
  ShutdownWait *wait = g_new0 (ShutdownWait, 1);

  wait->task = task;
  wait->timeout_id = g_timeout_add (SHUTDOWN_LINGER_TIMEOUT_MS, on_shutdown_linger_timeout, wait);
  pl_teardown_wait_lingering_async (shutdown_lingering_released_cb, wait);
}

static void
shutdown_hang_up_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PlLine *self = PL_LINE (object);

  pl_line_hang_up_group_finish (self, result, NULL, NULL);

  if (!pl_signaling_client_is_connected (self->signaling)) {
    shutdown_wait_lingering (g_steal_pointer (&task));
    return;
  }

  /* Completed by on_signaling_closed (). */
  self->shutdown_task = g_steal_pointer (&task);
  pl_signaling_client_close (self->signaling);
}

void
pl_line_shutdown_async (PlLine             *self,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  GTask *task;

  g_return_if_fail (PL_IS_LINE (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, pl_line_shutdown_async);
  pl_line_hang_up_group_async (self, NULL, PL_HANGUP_NORMAL, shutdown_hang_up_cb, task);
}

gboolean
pl_line_shutdown_finish (PlLine       *self,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
