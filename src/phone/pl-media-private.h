/* pl-media-private.h — the phone's own use of pipelines/ and GStreamer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gst/gst.h>

#include "pl-media.h"
#include "pl-phone-error.h"

G_BEGIN_DECLS

/* The text of pipelines/@name.pipeline, read once and kept. */
const char    *pl_media_get_description    (const char *name,
                                            GError    **error);

/* A bin (a full ref) built from pipelines/@name.pipeline, unlinked pads ghosted. */
GstElement    *pl_media_build_bin          (const char *name,
                                            GError    **error);

/* The element (a full ref) that plays to (@source: captures from) the audio
 * device named @name; PL_CALL_ERROR_SOURCE (inputs) or PL_CALL_ERROR_PIPELINE
 * (outputs) when no such device is connected. Blocks briefly. */
GstElement    *_pl_media_create_device_element (gboolean    source,
                                                const char *name,
                                                GError    **error);

/* Watches @pipeline's bus on @context (not the calling thread's default:
 * pipelines are built on the worker pool). Returns the source id. */
guint          pl_media_add_bus_watch      (GstElement   *pipeline,
                                            GMainContext *context,
                                            GstBusFunc    func,
                                            gpointer      user_data);

/* The dominant frequency in a `spectrum` element message, interpolated
 * between bands. Returns FALSE when the message carries no magnitudes. */
gboolean       pl_media_spectrum_peak      (const GstStructure *s,
                                            guint               rate,
                                            guint               bands,
                                            double             *out_hz,
                                            double             *out_db);

G_END_DECLS
