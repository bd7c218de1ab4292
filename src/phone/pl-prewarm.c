/* pl-prewarm.c
 *
 * What the first call of a process would otherwise pay for, done once per
 * process on a thread of GIO's pool while the line registers: the DTLS key
 * and certificate, the plugins webrtcbin and the pipelines/ fragments load,
 * and the shared source's encoded silence.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-prewarm"

#include "config.h"

#include "pl-prewarm.h"
#include "pl-media-private.h"
#include "pl-shared-source.h"

static gpointer
prewarm_once (gpointer data)
{
  /* The first dtlsdec of a process generates its RSA key and certificate;
   * every later one, webrtcbin's included, shares it (docs/webrtcbin-1.22.md,
   * "Also": "First use of DTLS … pre-warm at start-up"). */
  static const char * const fragments[] = {
    "source-tone", "source-silence", "audio-send", "audio-receive", "sink-fake",
  };
  /* What webrtcbin builds inside on its first offer or answer. */
  static const char * const factories[] = {
    "rtpbin", "rtpjitterbuffer", "rtpssrcdemux", "rtpptdemux", "rtpsession", "rtpstorage",
    "rtprtxsend", "rtprtxreceive", "rtpulpfecenc", "rtpulpfecdec", "rtpredenc", "rtpreddec",
    "rtpfunnel", "nicesrc", "nicesink", "dtlssrtpenc", "dtlssrtpdec", "srtpenc", "srtpdec",
    "funnel", "queue",
    /* and the shared source around it (pl-shared-source.c) */
    "tee", "proxysink", "proxysrc", "appsrc", "appsink", "valve",
  };
  g_autoptr(GstElement) dtlsdec = gst_element_factory_make ("dtlsdec", NULL);
  g_autoptr(GstElement) webrtc = gst_element_factory_make ("webrtcbin", NULL);

  if (dtlsdec != NULL) {
    gst_object_ref_sink (dtlsdec);
    /* Registers GstDtlsConnection too, whose constructed pl-teardown.c wraps before
     * the first call's transport is made. The connection goes with dtlsdec. */
    g_object_set (dtlsdec, "connection-id", "partyline-prewarm", NULL);
  } else
    g_debug ("dtlsdec is not available; the first call will generate the key");
  if (webrtc != NULL)
    gst_object_ref_sink (webrtc);

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++) {
    g_autoptr(GstElement) element = gst_element_factory_make (factories[i], NULL);

    if (element != NULL)
      gst_object_ref_sink (element);
  }

  /* The payload type of our own offers; others are encoded on first use. */
  pl_shared_source_prewarm (PL_OFFER_PAYLOAD_TYPE);

  /* Loads the plugins every call uses, so that the first call does not. */
  for (guint i = 0; i < G_N_ELEMENTS (fragments); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GstElement) bin = pl_media_build_bin (fragments[i], &error);

    if (bin == NULL)
      g_debug ("pre-warming %s: %s", fragments[i], error->message);
  }

  return NULL;
}

static void
prewarm_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, prewarm_once, NULL);
  g_task_return_boolean (task, TRUE);
}

void
pl_prewarm_async (GCancellable       *cancellable,
                  GAsyncReadyCallback callback,
                  gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pl_prewarm_async);
  g_task_run_in_thread (task, prewarm_thread);
}

gboolean
pl_prewarm_finish (GAsyncResult *result,
                   GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
