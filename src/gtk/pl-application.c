/* pl-application.c
 *
 * The dialer as a GApplication: one window, one account (a PlLine kept
 * registered), the history of this run, notifications for incoming calls,
 * and an action for everything a user can do, so that `gapplication action`
 * and `partyline --dial N` drive it from outside.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-application"

#include "config.h"
#include "pl-gtk-config.h"

#include "pl-application.h"
#include "pl-dial-util.h"
#include "pl-phone-error.h"
#include "pl-event-log.h"
#include "pl-history-entry.h"
#include "pl-preferences-window.h"
#include "pl-process.h"
#include "pl-window.h"

#include <glib-unix.h>
#include <glib/gi18n.h>

#include <signal.h>
#include <stdio.h>

struct _PlApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  PlAccount      *account;
  GListStore     *history;
  GHashTable     *started;       /* PlCall → GDateTime: when it was dialed or arrived */
  GStrv           pending_dial;  /* numbers to call once registered */
  guint           sigint_id;
  guint           sigterm_id;
  gboolean        quitting;
};

G_DEFINE_FINAL_TYPE (PlApplication, pl_application, ADW_TYPE_APPLICATION)

/* The dialer's main window, also while another of ours (Preferences) is
 * the active one. */
static PlWindow *
get_window (PlApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next) {
    if (PL_IS_WINDOW (l->data))
      return PL_WINDOW (l->data);
  }

  return NULL;
}

/* A message for the user: in the window, and in the event log. */
static void
show_message (PlApplication *self,
              const char    *message,
              const char    *button_label,
              const char    *action_name)
{
  PlWindow *window = get_window (self);
  PlEvent *ev = pl_event_log_begin ("message");

  pl_event_log_add_string (ev, "text", message);
  pl_event_log_end (ev);

  if (window != NULL)
    pl_window_show_message (window, message, button_label, action_name);
  else
    g_message ("%s", message);
}

/* --- settings ------------------------------------------------------------ */

static GSettings *
load_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsSchemaSource) build_source = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, PL_SCHEMA_ID, TRUE);

  /* Not installed: the schema compiled in the build tree. */
  if (schema == NULL && g_file_test (PL_BUILD_SCHEMA_DIR "/gschemas.compiled", G_FILE_TEST_EXISTS)) {
    build_source = g_settings_schema_source_new_from_directory (PL_BUILD_SCHEMA_DIR, source, FALSE,
                                                                NULL);
    if (build_source != NULL)
      schema = g_settings_schema_source_lookup (build_source, PL_SCHEMA_ID, FALSE);
  }

  if (schema == NULL)
    g_error ("the GSettings schema %s is not installed (or set GSETTINGS_SCHEMA_DIR)",
             PL_SCHEMA_ID);

  return g_settings_new_full (schema, NULL, NULL);
}

static GStrv
single_server (const char *uri)
{
  GStrv servers = g_new0 (char *, 2);

  servers[0] = g_strdup (uri);

  return servers;
}

/* The addresses of the setting that are IP addresses (webrtcbin refuses the
 * others), or NULL for every interface; says which are left out. */
static GStrv
ice_addresses (PlApplication      *self,
               const char * const *addresses)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) valid = NULL;

  for (guint i = 0; addresses[i] != NULL; i++) {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string (addresses[i]);

    if (address == NULL) {
      g_autofree char *message = NULL;

      /* Translators: %s is what the user typed */
      message = g_strdup_printf (_("“%s” is not an IP address"), addresses[i]);
      show_message (self, message, _("_Preferences"), "app.preferences");
      continue;
    }
    g_strv_builder_add (builder, addresses[i]);
  }

  valid = g_strv_builder_end (builder);
  if (valid[0] == NULL)
    return NULL;

  return g_steal_pointer (&valid);
}

static void
apply_settings (PlApplication *self)
{
  g_autoptr(PlMediaConfig) media = pl_media_config_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *server_url = g_settings_get_string (self->settings, "server-url");
  g_autofree char *number = g_settings_get_string (self->settings, "number");
  g_autofree char *token = g_settings_get_string (self->settings, "token");
  g_autofree char *source = g_settings_get_string (self->settings, "audio-source");
  g_autofree char *sink = g_settings_get_string (self->settings, "audio-sink");
  g_autofree char *stun = g_settings_get_string (self->settings, "stun-server");
  g_autofree char *turn = g_settings_get_string (self->settings, "turn-server");
  g_auto(GStrv) addresses = g_settings_get_strv (self->settings, "ice-addresses");
  PlEvent *ev;

  g_strstrip (server_url);
  g_strstrip (number);

  if (!pl_media_config_set_source (media, source, &error)) {
    g_autofree char *message = NULL;

    /* Translators: the first %s is the setting's value, the second why it is wrong */
    message = g_strdup_printf (_("The audio source “%s” cannot be used (%s): using the microphone."),
                               source, error->message);
    show_message (self, message, _("_Preferences"), "app.preferences");
    g_clear_error (&error);
    pl_media_config_set_source (media, "auto", NULL);
  }
  if (!pl_media_config_set_sink (media, sink, &error)) {
    g_autofree char *message = NULL;

    /* Translators: the first %s is the setting's value, the second why it is wrong */
    message = g_strdup_printf (_("The audio output “%s” cannot be used (%s): using the speakers."),
                               sink, error->message);
    show_message (self, message, _("_Preferences"), "app.preferences");
    g_clear_error (&error);
    pl_media_config_set_sink (media, "auto", NULL);
  }

  if (*stun != '\0' && pl_check_ice_server (stun, FALSE, &error))
    media->stun_servers = single_server (stun);
  else if (error != NULL)
    show_message (self, error->message, _("_Preferences"), "app.preferences");
  g_clear_error (&error);
  if (*turn != '\0' && pl_check_ice_server (turn, TRUE, &error))
    media->turn_servers = single_server (turn);
  else if (error != NULL)
    show_message (self, error->message, _("_Preferences"), "app.preferences");
  g_clear_error (&error);
  media->ice_addresses = ice_addresses (self, (const char * const *) addresses);

  pl_account_set_auto_answer (self->account, g_settings_get_boolean (self->settings, "auto-answer"));
  pl_account_configure (self->account, server_url, number, token, media);

  ev = pl_event_log_begin ("settings");
  pl_event_log_add_string (ev, "server_url", server_url);
  pl_event_log_add_string (ev, "number", number);
  pl_event_log_add_string (ev, "audio_source", source);
  pl_event_log_add_string (ev, "audio_sink", sink);
  pl_event_log_end (ev);
}

/* --- calls --------------------------------------------------------------- */

static void
withdraw_incoming (PlApplication *self,
                   PlCall        *call)
{
  g_autofree char *id = g_strdup_printf ("incoming-%s", pl_call_get_peer (call));

  g_application_withdraw_notification (G_APPLICATION (self), id);
}

static void
notify_incoming (PlApplication *self,
                 PlCall        *call)
{
  PlWindow *window = get_window (self);
  const char *peer = pl_call_get_peer (call);
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = g_strdup_printf ("incoming-%s", peer);
  g_autofree char *body = NULL;
  PlEvent *ev;

  /* The user sees the call's row unless the dialer's window is unfocused. */
  if (window != NULL && gtk_window_is_active (GTK_WINDOW (window)))
    return;

  notification = g_notification_new (_("Incoming call"));
  /* Translators: %s is a phone number */
  body = g_strdup_printf (_("%s is calling"), peer);
  g_notification_set_body (notification, body);
  g_notification_set_priority (notification, G_NOTIFICATION_PRIORITY_URGENT);
  g_notification_set_category (notification, "call.incoming");
  g_notification_set_default_action (notification, "app.present");
  g_notification_add_button_with_target (notification, _("Answer"), "app.answer", "s", peer);
  g_notification_add_button_with_target (notification, _("Decline"), "app.reject", "s", peer);
  g_application_send_notification (G_APPLICATION (self), id, notification);

  ev = pl_event_log_begin ("notification");
  pl_event_log_add_string (ev, "id", id);
  pl_event_log_add_string (ev, "body", body);
  pl_event_log_end (ev);
}

static void
on_call_state_changed (PlCall        *call,
                       int            state,
                       int            old_state,
                       PlApplication *self)
{
  const GError *error;

  if (old_state == PL_CALL_STATE_INCOMING)
    withdraw_incoming (self, call);

  if (state != PL_CALL_STATE_ENDED)
    return;

  /* Say why a call failed on our side: the microphone, most often. */
  error = pl_call_get_error (call);
  if (error != NULL && g_error_matches (error, PL_CALL_ERROR, PL_CALL_ERROR_SOURCE)) {
    g_autofree char *message = NULL;

    /* Translators: %s is the technical reason */
    message = g_strdup_printf (_("The microphone cannot be opened (%s). Choose another audio source in Preferences."),
                               error->message);
    show_message (self, message, _("_Preferences"), "app.preferences");
  } else if (error != NULL) {
    g_autofree char *message = NULL;

    /* Translators: the first %s is a phone number, the second the technical reason */
    message = g_strdup_printf (_("The call with %s failed: %s"), pl_call_get_peer (call),
                               error->message);
    show_message (self, message, NULL, NULL);
  }
}

static void
on_account_call_added (PlAccount     *account,
                       PlCall        *call,
                       PlApplication *self)
{
  g_hash_table_insert (self->started, g_object_ref (call), g_date_time_new_now_local ());
  g_signal_connect_object (call, "state-changed", G_CALLBACK (on_call_state_changed), self, 0);

  if (pl_call_get_direction (call) == PL_CALL_DIRECTION_INCOMING &&
      pl_call_get_state (call) == PL_CALL_STATE_INCOMING)
    notify_incoming (self, call);
}

static void
on_account_call_removed (PlAccount     *account,
                         PlCall        *call,
                         PlApplication *self)
{
  GDateTime *started = g_hash_table_lookup (self->started, call);
  g_autoptr(PlHistoryEntry) entry = NULL;
  g_autoptr(GDateTime) now = NULL;

  if (started == NULL)
    started = now = g_date_time_new_now_local ();
  entry = pl_history_entry_new (call, started);
  g_list_store_insert (self->history, 0, entry);

  withdraw_incoming (self, call);
  g_signal_handlers_disconnect_by_data (call, self);
  g_hash_table_remove (self->started, call);
}

static void
dial_pending (PlApplication *self)
{
  g_auto(GStrv) numbers = g_steal_pointer (&self->pending_dial);
  g_autofree char *text = NULL;

  if (numbers == NULL)
    return;

  text = g_strjoinv (",", numbers);
  g_action_group_activate_action (G_ACTION_GROUP (self), "dial", g_variant_new_string (text));
}

static void
on_account_state_notify (PlApplication *self)
{
  PlAccountState state = pl_account_get_state (self->account);

  if (state == PL_ACCOUNT_STATE_REGISTERED)
    dial_pending (self);
  else if (state == PL_ACCOUNT_STATE_FAILED && self->pending_dial != NULL)
    g_clear_pointer (&self->pending_dial, g_strfreev);
}

/* --- actions ------------------------------------------------------------- */

static PlCall *
lookup_call (PlApplication *self,
             const char    *peer)
{
  PlLine *line = pl_account_get_line (self->account);
  PlCall *call = line ? pl_line_lookup_call (line, peer) : NULL;

  if (call == NULL) {
    g_autofree char *message = NULL;

    /* Translators: %s is a phone number */
    message = g_strdup_printf (_("There is no call with %s"), peer);
    show_message (self, message, NULL, NULL);
  }

  return call;
}

static void
dial_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PlApplication *self = user_data;
  const char *text = g_variant_get_string (parameter, NULL);
  PlLine *line = pl_account_get_line (self->account);
  PlAccountState state = pl_account_get_state (self->account);
  g_auto(GStrv) numbers = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_monotonic_time ();

  numbers = pl_dial_parse_numbers (text, pl_account_get_number (self->account), &error);
  if (numbers == NULL) {
    show_message (self, error->message, NULL, NULL);
    return;
  }

  if (state != PL_ACCOUNT_STATE_REGISTERED) {
    if (state == PL_ACCOUNT_STATE_CONNECTING || state == PL_ACCOUNT_STATE_RETRYING) {
      /* `partyline --dial N` at start-up: call once registered. */
      g_strfreev (self->pending_dial);
      self->pending_dial = g_steal_pointer (&numbers);
      show_message (self, _("Not connected yet: calling as soon as the server answers."), NULL, NULL);
    } else {
      show_message (self, _("Cannot call: not connected to the server."), _("_Preferences"),
                    "app.preferences");
    }
    return;
  }

  for (guint i = 0; numbers[i]; i++) {
    g_autofree char *message = NULL;

    if (pl_line_lookup_call (line, numbers[i]) != NULL) {
      /* Translators: %s is a phone number */
      message = g_strdup_printf (_("Already in a call with %s"), numbers[i]);
      show_message (self, message, NULL, NULL);
      continue;
    }
    if (pl_line_dial (line, numbers[i], now, &error) == NULL) {
      /* Translators: the first %s is a phone number, the second the technical reason */
      message = g_strdup_printf (_("Cannot call %s: %s"), numbers[i], error->message);
      show_message (self, message, NULL, NULL);
      g_clear_error (&error);
    }
  }
}

static void
answer_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PlApplication *self = user_data;
  PlCall *call = lookup_call (self, g_variant_get_string (parameter, NULL));
  g_autoptr(GError) error = NULL;

  if (call != NULL && !pl_call_answer (call, &error))
    show_message (self, error->message, NULL, NULL);
}

static void
reject_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PlApplication *self = user_data;
  PlCall *call = lookup_call (self, g_variant_get_string (parameter, NULL));

  if (call == NULL)
    return;
  if (pl_call_get_state (call) != PL_CALL_STATE_INCOMING)
    show_message (self, _("This call is not waiting for an answer"), NULL, NULL);
  else
    pl_call_hang_up (call, PL_HANGUP_REJECTED);
}

typedef struct {
  PlApplication *self;
  gint64         started_at;
} GroupHangUp;

static void
hang_up_all_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autofree GroupHangUp *group = user_data;
  g_autoptr(PlApplication) self = group->self;
  guint count = 0;
  PlEvent *ev;

  pl_line_hang_up_group_finish (PL_LINE (object), result, &count, NULL);

  ev = pl_event_log_begin ("all-ended");
  pl_event_log_add_int (ev, "count", count);
  pl_event_log_add_double (ev, "ms", (g_get_monotonic_time () - group->started_at) / 1000.0);
  pl_event_log_end (ev);
}

static void
hang_up_all_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PlApplication *self = user_data;
  PlLine *line = pl_account_get_line (self->account);
  GroupHangUp *group;

  g_clear_pointer (&self->pending_dial, g_strfreev);
  if (line == NULL)
    return;

  group = g_new0 (GroupHangUp, 1);
  group->self = g_object_ref (self);
  group->started_at = g_get_monotonic_time ();
  pl_line_hang_up_group_async (line, NULL, PL_HANGUP_NORMAL, hang_up_all_cb, group);
}

static void
hang_up_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  PlApplication *self = user_data;
  const char *peer = g_variant_get_string (parameter, NULL);
  PlCall *call;

  if (g_str_equal (peer, "all")) {
    hang_up_all_activated (NULL, NULL, self);
    return;
  }

  call = lookup_call (self, peer);
  if (call != NULL)
    pl_call_hang_up (call, PL_HANGUP_NORMAL);
}

static void
set_muted (PlApplication *self,
           const char    *peer,
           gboolean       muted)
{
  PlLine *line = pl_account_get_line (self->account);
  PlCall *call;

  if (g_str_equal (peer, "all")) {
    g_autoptr(GPtrArray) calls = line ? pl_line_get_calls (line) : NULL;

    for (guint i = 0; calls && i < calls->len; i++)
      pl_call_set_muted (g_ptr_array_index (calls, i), muted);
    return;
  }

  call = lookup_call (self, peer);
  if (call != NULL)
    pl_call_set_muted (call, muted);
}

static void
mute_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  set_muted (user_data, g_variant_get_string (parameter, NULL), TRUE);
}

static void
unmute_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  set_muted (user_data, g_variant_get_string (parameter, NULL), FALSE);
}

static void
reconnect_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PlApplication *self = user_data;

  /* Settings may have been fixed meanwhile. */
  apply_settings (self);
  pl_account_reconnect (self->account);
}

static void
present_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  g_application_activate (G_APPLICATION (user_data));
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PlApplication *self = user_data;
  PlPreferencesWindow *preferences;

  g_application_activate (G_APPLICATION (self));
  preferences = pl_preferences_window_new (self->settings);
  gtk_window_set_transient_for (GTK_WINDOW (preferences),
                                gtk_application_get_active_window (GTK_APPLICATION (self)));
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  PlApplication *self = user_data;
  static const char *developers[] = { "The Partyline developers", NULL };

  adw_show_about_window (gtk_application_get_active_window (GTK_APPLICATION (self)),
                         "application-name", _("Partyline"),
                         "application-icon", PL_APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("A phone with many lines, on WebRTC"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         /* Translators: put your names here, one a line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
shutdown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PlApplication) self = user_data;

  pl_account_shutdown_finish (PL_ACCOUNT (object), result, NULL);
  g_application_release (G_APPLICATION (self));
  g_application_quit (G_APPLICATION (self));
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PlApplication *self = user_data;

  if (self->quitting)
    return;

  /* Every pipeline reaches NULL and the socket closes normally first. */
  self->quitting = TRUE;
  g_application_hold (G_APPLICATION (self));
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    gtk_widget_set_visible (l->data, FALSE);
  pl_account_shutdown_async (self->account, shutdown_cb, g_object_ref (self));
}

/* `partyline --json` only: what a test needs to know, on request. */
static void
report_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  PlApplication *self = user_data;
  PlWindow *window = get_window (self);
  PlLine *line = pl_account_get_line (self->account);
  g_autoptr(GPtrArray) calls = line ? pl_line_get_calls (line) : NULL;
  PlEvent *ev = pl_event_log_begin ("report");
  gboolean reset = parameter != NULL && g_str_equal (g_variant_get_string (parameter, NULL), "reset");

  pl_event_log_add_string (ev, "account",
                           pl_account_state_to_string (pl_account_get_state (self->account)));
  pl_event_log_add_int (ev, "calls", calls ? calls->len : 0);
  pl_event_log_add_int (ev, "pipelines", line ? pl_line_get_pipeline_count (line) : 0);
  pl_event_log_add_int (ev, "rows", window ? pl_window_count_rows (window) : 0);
  pl_event_log_add_int (ev, "history", g_list_model_get_n_items (G_LIST_MODEL (self->history)));
  pl_event_log_add_bool (ev, "window_visible",
                         window != NULL && gtk_widget_get_visible (GTK_WIDGET (window)));
  /* The longest stall less the main thread's waits for a CPU (pl-process.h). */
  pl_event_log_add_double (ev, "max_busy_stall_ms", pl_loop_probe_get_max_busy_ms ());
  pl_event_log_add_double (ev, "max_stall_ms", pl_loop_probe_take_max_stall_ms (reset));
  pl_event_log_end (ev);
}

static const GActionEntry app_actions[] = {
  { "dial", dial_activated, "s" },
  { "answer", answer_activated, "s" },
  { "reject", reject_activated, "s" },
  { "hangup", hang_up_activated, "s" },
  { "hangup-all", hang_up_all_activated },
  { "mute", mute_activated, "s" },
  { "unmute", unmute_activated, "s" },
  { "reconnect", reconnect_activated },
  { "present", present_activated },
  { "preferences", preferences_activated },
  { "about", about_activated },
  { "quit", quit_activated },
};

/* --- GApplication -------------------------------------------------------- */

/* SIGINT and SIGTERM quit as app.quit does: calls hung up, socket closed. */
static gboolean
on_unix_signal (gpointer user_data)
{
  g_action_group_activate_action (G_ACTION_GROUP (user_data), "quit", NULL);

  return G_SOURCE_CONTINUE;
}

static gboolean
on_window_close_request (GtkWindow     *window,
                         PlApplication *self)
{
  g_action_group_activate_action (G_ACTION_GROUP (self), "quit", NULL);

  return TRUE;
}

/* Whether the dialer's window has the focus decides whether an incoming
 * call also gets a notification; the event log says when it changes. */
static void
on_window_is_active (GtkWindow  *window,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  PlEvent *ev = pl_event_log_begin ("window");

  pl_event_log_add_bool (ev, "active", gtk_window_is_active (window));
  pl_event_log_end (ev);
}

static void
pl_application_activate (GApplication *application)
{
  PlApplication *self = PL_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (self->quitting)
    return;

  if (window == NULL) {
    window = GTK_WINDOW (pl_window_new (GTK_APPLICATION (self), self->account,
                                        G_LIST_MODEL (self->history)));
    g_signal_connect_object (window, "close-request", G_CALLBACK (on_window_close_request), self,
                             0);
    g_signal_connect (window, "notify::is-active", G_CALLBACK (on_window_is_active), NULL);
  }

  gtk_window_present (window);
}

static void
pl_application_startup (GApplication *application)
{
  PlApplication *self = PL_APPLICATION (application);
  static const char *hang_up_all_accels[] = { "<Control><Shift>h", NULL };
  static const char *preferences_accels[] = { "<Control>comma", NULL };
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *reconnect_accels[] = { "<Control>r", NULL };
  static const char *mute_all_accels[] = { "<Control><Shift>m", NULL };
  static const char *unmute_all_accels[] = { "<Control><Shift>u", NULL };

  G_APPLICATION_CLASS (pl_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  if (pl_event_log_enabled ()) {
    static const GActionEntry report_action[] = { { "report", report_activated, "s" } };

    g_action_map_add_action_entries (G_ACTION_MAP (self), report_action, 1, self);
    pl_loop_probe_start ();
  }

  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.hangup-all",
                                         hang_up_all_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         preferences_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.reconnect",
                                         reconnect_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.mute::all",
                                         mute_all_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.unmute::all",
                                         unmute_all_accels);

  {
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/org/partyline/Partyline/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  self->sigint_id = g_unix_signal_add (SIGINT, on_unix_signal, self);
  self->sigterm_id = g_unix_signal_add (SIGTERM, on_unix_signal, self);

  self->settings = load_settings ();
  g_signal_connect_object (self->settings, "changed", G_CALLBACK (apply_settings), self,
                           G_CONNECT_SWAPPED);

  self->account = pl_account_new ();
  g_signal_connect_object (self->account, "call-added", G_CALLBACK (on_account_call_added), self, 0);
  g_signal_connect_object (self->account, "call-removed", G_CALLBACK (on_account_call_removed),
                           self, 0);
  g_signal_connect_object (self->account, "notify::state", G_CALLBACK (on_account_state_notify),
                           self, G_CONNECT_SWAPPED);
  apply_settings (self);
}

static void
pl_application_shutdown (GApplication *application)
{
  PlApplication *self = PL_APPLICATION (application);

  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);

  G_APPLICATION_CLASS (pl_application_parent_class)->shutdown (application);
}

static int
pl_application_command_line (GApplication            *application,
                             GApplicationCommandLine *command_line)
{
  PlApplication *self = PL_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  const char *dial = NULL;

  g_application_activate (application);

  if (g_variant_dict_lookup (options, "dial", "&s", &dial))
    g_action_group_activate_action (G_ACTION_GROUP (self), "dial", g_variant_new_string (dial));

  return 0;
}

static int
pl_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version")) {
    g_print ("partyline %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (g_variant_dict_contains (options, "json"))
    pl_event_log_enable ();

  return -1;
}

static void
pl_application_dispose (GObject *object)
{
  PlApplication *self = PL_APPLICATION (object);

  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
  if (self->account != NULL)
    g_signal_handlers_disconnect_by_data (self->account, self);
  g_clear_object (&self->account);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->started, g_hash_table_unref);
  g_clear_object (&self->history);

  G_OBJECT_CLASS (pl_application_parent_class)->dispose (object);
}

static void
pl_application_finalize (GObject *object)
{
  PlApplication *self = PL_APPLICATION (object);

  g_strfreev (self->pending_dial);

  G_OBJECT_CLASS (pl_application_parent_class)->finalize (object);
}

static void
pl_application_class_init (PlApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = pl_application_dispose;
  object_class->finalize = pl_application_finalize;
  app_class->activate = pl_application_activate;
  app_class->startup = pl_application_startup;
  app_class->shutdown = pl_application_shutdown;
  app_class->command_line = pl_application_command_line;
  app_class->handle_local_options = pl_application_handle_local_options;
}

static void
pl_application_init (PlApplication *self)
{
  static const GOptionEntry entries[] = {
    { "dial", 'd', 0, G_OPTION_ARG_STRING, NULL,
      N_("Call these numbers (separated by commas)"), N_("NUMBER[,NUMBER…]") },
    { "json", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Write what the window shows as JSON lines on standard output (for tests)"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { NULL }
  };

  self->history = g_list_store_new (PL_TYPE_HISTORY_ENTRY);
  self->started = g_hash_table_new_full (NULL, NULL, g_object_unref,
                                         (GDestroyNotify) g_date_time_unref);
  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Partyline — a phone with many lines."));
}

PlApplication *
pl_application_new (void)
{
  return g_object_new (PL_TYPE_APPLICATION,
                       "application-id", PL_APP_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE,
                       "resource-base-path", "/org/partyline/Partyline",
                       NULL);
}

PlAccount *
pl_application_get_account (PlApplication *self)
{
  g_return_val_if_fail (PL_IS_APPLICATION (self), NULL);

  return self->account;
}

GListModel *
pl_application_get_history (PlApplication *self)
{
  g_return_val_if_fail (PL_IS_APPLICATION (self), NULL);

  return G_LIST_MODEL (self->history);
}
