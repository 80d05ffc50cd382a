#ifndef PORTCULLIS_CHIREDIS_SHIM_H
#define PORTCULLIS_CHIREDIS_SHIM_H
#include <stdlib.h>
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

/*
 * hiredis 0.14 builds a REDIS_REPLY_NIL reply for both a null bulk string
 * (`$-1`) and a null array (`*-1`). PortcullisBus needs to tell them apart
 * (XREAD's timeout and a deleted pending entry are null arrays), so its
 * readers use a copy of hiredis's default reply functions whose createNil
 * marks a null array by setting `integer` to 1 on the NIL reply. The copy is
 * owned by the reader (kept in its privdata) and freed with it.
 */
typedef struct portcullis_reader_functions {
    redisReplyObjectFunctions functions;
    void *(*defaultCreateNil)(const redisReadTask *task);
} portcullis_reader_functions;

static inline void *portcullis_createNil(const redisReadTask *task) {
    const portcullis_reader_functions *table = (const portcullis_reader_functions *)task->privdata;
    redisReply *reply = (redisReply *)table->defaultCreateNil(task);
    if (reply != NULL) {
        reply->integer = (task->type == REDIS_REPLY_ARRAY) ? 1 : 0;
    }
    return reply;
}

/* A reader that marks null arrays (see above); free it with portcullis_redisReaderFree. */
static inline redisReader *portcullis_redisReaderCreate(void) {
    redisReader *reader = redisReaderCreate();
    if (reader == NULL) {
        return NULL;
    }
    portcullis_reader_functions *table = (portcullis_reader_functions *)malloc(sizeof(*table));
    if (table == NULL) {
        redisReaderFree(reader);
        return NULL;
    }
    table->functions = *reader->fn;
    table->defaultCreateNil = reader->fn->createNil;
    table->functions.createNil = portcullis_createNil;
    reader->fn = &table->functions;
    reader->privdata = table;
    return reader;
}

static inline void portcullis_redisReaderFree(redisReader *reader) {
    if (reader == NULL) {
        return;
    }
    void *table = reader->privdata;
    redisReaderFree(reader);
    free(table);
}

/* redisReaderGetError is a macro. */
static inline const char *portcullis_redisReaderError(const redisReader *reader) {
    return reader->errstr;
}

/* 1 when a REDIS_REPLY_NIL reply came from a null array (`*-1`). */
static inline int portcullis_replyIsNullArray(const redisReply *reply) {
    return reply->type == REDIS_REPLY_NIL && reply->integer == 1;
}
#endif
