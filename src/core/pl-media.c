/* pl-media.c — being written */
