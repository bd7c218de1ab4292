/* pl-account.c
 *
 * Keeps one PlLine registered: connects when configured, and after a lost
 * connection or an unreachable server tries again with a growing delay
 * (1, 2, 4 … 30 s). A refused registration or bad settings wait for the user.
 *
 * The calls of the current line, and of a line still shutting down after the
 * settings changed, are forwarded as "call-added" and "call-removed".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-account"

#include "config.h"

#include "pl-account.h"
#include "pl-dial-util.h"
#include "pl-phone-error.h"
#include "pl-media.h"
#include "pl-protocol.h"

#include <glib/gi18n.h>

#define MAX_RETRY_DELAY_S 30

struct _PlAccount
{
  GObject         parent_instance;

  char           *server_url;
  char           *number;
  char           *token;
  PlMediaConfig  *media;
  gboolean        auto_answer;

  PlLine         *line;
  GPtrArray      *closing_lines;  /* PlLine (ref): shutting down */
  GCancellable   *cancellable;    /* of the running registration */
  PlAccountState  state;
  char           *message;
  guint           attempt;        /* failed attempts since the last success */
  guint           retry_seconds;
  guint           retry_id;
  gboolean        line_refused;   /* the line's socket may still be open */
  gboolean        connect_queued; /* once the closing lines are closed */
  gboolean        swap_queued;    /* new media settings: once the calls are over */
};

G_DEFINE_FINAL_TYPE (PlAccount, pl_account, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_MESSAGE,
  PROP_SERVER_URL,
  PROP_NUMBER,
  PROP_RETRY_SECONDS,
  N_PROPS
};

enum {
  SIGNAL_CALL_ADDED,
  SIGNAL_CALL_REMOVED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

static void connect_line (PlAccount *self);
static void release_line (PlAccount *self);

/* g_set_str () is GLib 2.76. */
static void
set_str (char      **str_pointer,
         const char *new_str)
{
  char *copy;

  if (*str_pointer == new_str || g_strcmp0 (*str_pointer, new_str) == 0)
    return;

  copy = g_strdup (new_str);
  g_free (*str_pointer);
  *str_pointer = copy;
}

static void
set_state (PlAccount      *self,
           PlAccountState  state,
           const char     *message)
{
  gboolean state_changed = self->state != state;
  gboolean message_changed = g_strcmp0 (self->message, message) != 0;

  self->state = state;
  if (message_changed) {
    g_free (self->message);
    self->message = g_strdup (message);
  }

  g_debug ("%s: %s", pl_account_state_to_string (state), message ? message : "");

  g_object_ref (self);
  if (state_changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  if (message_changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MESSAGE]);
  g_object_unref (self);
}

static void
on_line_call_added (PlLine    *line,
                    PlCall    *call,
                    PlAccount *self)
{
  g_signal_emit (self, signals[SIGNAL_CALL_ADDED], 0, call);
}

static void
on_line_call_removed (PlLine    *line,
                      PlCall    *call,
                      PlAccount *self)
{
  g_signal_emit (self, signals[SIGNAL_CALL_REMOVED], 0, call);

  /* New media settings wait for the last call to end. */
  if (line == self->line && self->swap_queued && pl_line_get_pipeline_count (line) == 0) {
    self->swap_queued = FALSE;
    release_line (self);
    self->attempt = 0;
    connect_line (self);
  }
}

static gboolean
on_retry_timeout (gpointer user_data)
{
  PlAccount *self = user_data;

  self->retry_id = 0;
  connect_line (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_retry (PlAccount  *self,
                const char *why)
{
  g_autofree char *message = NULL;

  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->retry_seconds = MIN (1u << MIN (self->attempt, 5), MAX_RETRY_DELAY_S);
  self->attempt++;
  self->retry_id = g_timeout_add_seconds (self->retry_seconds, on_retry_timeout, self);

  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          /* Translators: %s says what went wrong */
                                          "%s Trying again in %u second.",
                                          "%s Trying again in %u seconds.",
                                          self->retry_seconds),
                             why, self->retry_seconds);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_RETRY_SECONDS]);
  set_state (self, PL_ACCOUNT_STATE_RETRYING, message);
}

static void
on_line_unregistered (PlLine     *line,
                      const char *reason,
                      PlAccount  *self)
{
  g_autofree char *why = NULL;

  if (line != self->line)
    return;

  /* Translators: %s is the reason the connection ended, from the network layer */
  why = g_strdup_printf (_("The connection to the server was lost (%s)."), reason);
  schedule_retry (self, why);
}

static void
register_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PlAccount) self = user_data;
  PlLine *line = PL_LINE (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *why = NULL;

  if (!pl_line_register_finish (line, result, &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || line != self->line)
      return;

    if (g_error_matches (error, PL_SIGNALING_ERROR, PL_SIGNALING_ERROR_REFUSED)) {
      g_clear_handle_id (&self->retry_id, g_source_remove);
      self->line_refused = TRUE;
      /* Translators: the first %s is a phone number, the second the server's reason */
      why = g_strdup_printf (_("The server refused to register %s: %s"), self->number,
                             error->message);
      set_state (self, PL_ACCOUNT_STATE_FAILED, why);
      return;
    }

    /* Translators: %s is the technical reason */
    why = g_strdup_printf (_("Cannot reach the server: %s."), error->message);
    schedule_retry (self, why);
    return;
  }

  if (line != self->line)
    return;

  self->attempt = 0;
  set_state (self, PL_ACCOUNT_STATE_REGISTERED, NULL);
}

static void
line_shutdown_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PlAccount) self = user_data;
  PlLine *line = PL_LINE (object);

  pl_line_shutdown_finish (line, result, NULL);
  g_signal_handlers_disconnect_by_data (line, self);
  g_ptr_array_remove (self->closing_lines, line);

  /* The server has forgotten the old registration: the number is free. */
  if (self->connect_queued && self->closing_lines->len == 0) {
    self->connect_queued = FALSE;
    connect_line (self);
  }
}

/* Hangs up the current line's calls and lets it go once they are in NULL. */
static void
release_line (PlAccount *self)
{
  g_autoptr(PlLine) line = g_steal_pointer (&self->line);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  self->line_refused = FALSE;
  self->swap_queued = FALSE;

  if (line == NULL)
    return;

  g_ptr_array_add (self->closing_lines, g_object_ref (line));
  pl_line_shutdown_async (line, line_shutdown_cb, g_object_ref (self));
}

static void
connect_line (PlAccount *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  g_clear_handle_id (&self->retry_id, g_source_remove);

  if (self->number == NULL || *self->number == '\0') {
    release_line (self);
    set_state (self, PL_ACCOUNT_STATE_FAILED, _("Choose your number in Preferences."));
    return;
  }
  if (!pl_number_is_valid (self->number)) {
    release_line (self);
    /* Translators: %s is the number from the settings */
    message = g_strdup_printf (_("“%s” is not a valid number: use 1 to 32 letters, digits, or _ . + -"),
                               self->number);
    set_state (self, PL_ACCOUNT_STATE_FAILED, message);
    return;
  }
  if (!pl_check_server_url (self->server_url, &error)) {
    release_line (self);
    set_state (self, PL_ACCOUNT_STATE_FAILED, error->message);
    return;
  }

  /* A refused line keeps its socket: start over with a new one. */
  if (self->line_refused)
    release_line (self);

  /* Registering the same number while the old line still holds it would be
   * refused: wait until the old lines are closed. */
  if (self->line == NULL && self->closing_lines->len > 0) {
    self->connect_queued = TRUE;
    message = g_strdup_printf (_("Connecting to %s…"), self->server_url);
    set_state (self, PL_ACCOUNT_STATE_CONNECTING, message);
    return;
  }

  if (self->line == NULL) {
    self->line = pl_line_new (self->server_url, self->number, self->token, self->media);
    pl_line_set_auto_answer (self->line, self->auto_answer ? 0 : -1);
    g_signal_connect_object (self->line, "call-added", G_CALLBACK (on_line_call_added), self, 0);
    g_signal_connect_object (self->line, "call-removed", G_CALLBACK (on_line_call_removed),
                             self, 0);
    g_signal_connect_object (self->line, "unregistered", G_CALLBACK (on_line_unregistered),
                             self, 0);
  }

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  /* Translators: %s is the server address */
  message = g_strdup_printf (_("Connecting to %s…"), self->server_url);
  set_state (self, PL_ACCOUNT_STATE_CONNECTING, message);
  pl_line_register_async (self->line, self->cancellable, register_cb, g_object_ref (self));
}

static void
pl_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  PlAccount *self = PL_ACCOUNT (object);

  switch (prop_id) {
  case PROP_STATE:
    g_value_set_int (value, self->state);
    break;
  case PROP_MESSAGE:
    g_value_set_string (value, self->message);
    break;
  case PROP_SERVER_URL:
    g_value_set_string (value, self->server_url);
    break;
  case PROP_NUMBER:
    g_value_set_string (value, self->number);
    break;
  case PROP_RETRY_SECONDS:
    g_value_set_uint (value, self->retry_seconds);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_account_dispose (GObject *object)
{
  PlAccount *self = PL_ACCOUNT (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->line != NULL)
    g_signal_handlers_disconnect_by_data (self->line, self);
  g_clear_object (&self->line);
  if (self->closing_lines != NULL) {
    for (guint i = 0; i < self->closing_lines->len; i++)
      g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->closing_lines, i), self);
  }
  g_clear_pointer (&self->closing_lines, g_ptr_array_unref);

  G_OBJECT_CLASS (pl_account_parent_class)->dispose (object);
}

static void
pl_account_finalize (GObject *object)
{
  PlAccount *self = PL_ACCOUNT (object);

  g_clear_pointer (&self->media, pl_media_config_free);
  g_free (self->server_url);
  g_free (self->number);
  g_free (self->token);
  g_free (self->message);

  G_OBJECT_CLASS (pl_account_parent_class)->finalize (object);
}

static void
pl_account_class_init (PlAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = pl_account_get_property;
  object_class->dispose = pl_account_dispose;
  object_class->finalize = pl_account_finalize;

  props[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, PL_ACCOUNT_STATE_OFFLINE, PL_ACCOUNT_STATE_FAILED,
                      PL_ACCOUNT_STATE_OFFLINE,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_SERVER_URL] =
    g_param_spec_string ("server-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_NUMBER] =
    g_param_spec_string ("number", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_RETRY_SECONDS] =
    g_param_spec_uint ("retry-seconds", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_CALL_ADDED] =
    g_signal_new ("call-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PL_TYPE_CALL);
  /* Once the call's pipeline is in NULL. */
  signals[SIGNAL_CALL_REMOVED] =
    g_signal_new ("call-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PL_TYPE_CALL);
}

static void
pl_account_init (PlAccount *self)
{
  self->closing_lines = g_ptr_array_new_with_free_func (g_object_unref);
  self->media = pl_media_config_new ();
  self->state = PL_ACCOUNT_STATE_OFFLINE;
}

PlAccount *
pl_account_new (void)
{
  return g_object_new (PL_TYPE_ACCOUNT, NULL);
}

void
pl_account_configure (PlAccount           *self,
                      const char          *server_url,
                      const char          *number,
                      const char          *token,
                      const PlMediaConfig *media)
{
  gboolean url_changed, number_changed, token_changed;

  g_return_if_fail (PL_IS_ACCOUNT (self));
  g_return_if_fail (media != NULL);

  if (token != NULL && *token == '\0')
    token = NULL;

  url_changed = g_strcmp0 (self->server_url, server_url) != 0;
  number_changed = g_strcmp0 (self->number, number) != 0;
  token_changed = g_strcmp0 (self->token, token) != 0;
  if (!url_changed && !number_changed && !token_changed &&
      pl_media_config_equal (self->media, media) && self->state != PL_ACCOUNT_STATE_OFFLINE)
    return;

  set_str (&self->server_url, server_url);
  set_str (&self->number, number);
  set_str (&self->token, token);
  pl_media_config_free (self->media);
  self->media = pl_media_config_copy (media);
  if (url_changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SERVER_URL]);
  if (number_changed)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NUMBER]);

  /* Only the media changed: the calls going on keep theirs, and the line is
   * replaced once they are over. */
  self->swap_queued = FALSE;
  if (!url_changed && !number_changed && !token_changed && self->line != NULL &&
      pl_line_get_pipeline_count (self->line) > 0) {
    self->swap_queued = TRUE;
    return;
  }

  release_line (self);
  self->attempt = 0;
  connect_line (self);
}

void
pl_account_set_auto_answer (PlAccount *self,
                            gboolean   auto_answer)
{
  g_return_if_fail (PL_IS_ACCOUNT (self));

  self->auto_answer = !!auto_answer;
  if (self->line != NULL)
    pl_line_set_auto_answer (self->line, self->auto_answer ? 0 : -1);
}

void
pl_account_reconnect (PlAccount *self)
{
  g_return_if_fail (PL_IS_ACCOUNT (self));

  if (self->state == PL_ACCOUNT_STATE_REGISTERED || self->state == PL_ACCOUNT_STATE_CONNECTING)
    return;

  self->attempt = 0;
  connect_line (self);
}

PlAccountState
pl_account_get_state (PlAccount *self)
{
  g_return_val_if_fail (PL_IS_ACCOUNT (self), PL_ACCOUNT_STATE_OFFLINE);

  return self->state;
}

const char *
pl_account_get_message (PlAccount *self)
{
  g_return_val_if_fail (PL_IS_ACCOUNT (self), NULL);

  return self->message;
}

const char *
pl_account_get_server_url (PlAccount *self)
{
  g_return_val_if_fail (PL_IS_ACCOUNT (self), NULL);

  return self->server_url;
}

const char *
pl_account_get_number (PlAccount *self)
{
  g_return_val_if_fail (PL_IS_ACCOUNT (self), NULL);

  return self->number;
}

guint
pl_account_get_retry_seconds (PlAccount *self)
{
  g_return_val_if_fail (PL_IS_ACCOUNT (self), 0);

  return self->retry_seconds;
}

PlLine *
pl_account_get_line (PlAccount *self)
{
  g_return_val_if_fail (PL_IS_ACCOUNT (self), NULL);

  return self->line;
}

static void
shutdown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PlAccount *self = g_task_get_source_object (task);

  pl_line_shutdown_finish (PL_LINE (object), result, NULL);
  g_signal_handlers_disconnect_by_data (object, self);
  g_ptr_array_remove (self->closing_lines, object);
  g_task_return_boolean (task, TRUE);
}

void
pl_account_shutdown_async (PlAccount          *self,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(PlLine) line = NULL;

  g_return_if_fail (PL_IS_ACCOUNT (self));

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, pl_account_shutdown_async);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  line = g_steal_pointer (&self->line);
  self->connect_queued = FALSE;
  self->swap_queued = FALSE;
  set_state (self, PL_ACCOUNT_STATE_OFFLINE, NULL);

  if (line == NULL) {
    g_task_return_boolean (task, TRUE);
    return;
  }

  g_ptr_array_add (self->closing_lines, g_object_ref (line));
  pl_line_shutdown_async (line, shutdown_cb, g_steal_pointer (&task));
}

gboolean
pl_account_shutdown_finish (PlAccount    *self,
                            GAsyncResult *result,
                            GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

const char *
pl_account_state_to_string (PlAccountState state)
{
  switch (state) {
  case PL_ACCOUNT_STATE_OFFLINE:
    return "offline";
  case PL_ACCOUNT_STATE_CONNECTING:
    return "connecting";
  case PL_ACCOUNT_STATE_REGISTERED:
    return "registered";
  case PL_ACCOUNT_STATE_RETRYING:
    return "retrying";
  case PL_ACCOUNT_STATE_FAILED:
    return "failed";
  default:
    g_return_val_if_reached ("offline");
  }
}
