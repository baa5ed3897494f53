import Fastify, { type FastifyInstance } from 'fastify';
import type { Verifier } from '@tessera/verifier';
import { tesseraAuth } from '@tessera/verifier/fastify';

interface Note {
  id: number;
  text: string;
}

/**
 * The notes API: each user sees and adds only their own notes. Everything under it requires a
 * Tessera access token; who is calling comes from the verified claims, never from the request.
 */
export async function buildNotesService(verifier: Verifier): Promise<FastifyInstance> {
  const notes = new Map<string, Note[]>();
  const app = Fastify();
  app.get('/healthz', async () => ({ status: 'ok' }));

  await app.register(async (api) => {
    await api.register(tesseraAuth, { verifier, scopes: ['profile'] });

    api.get('/notes', async (request) => notes.get(request.tessera!.sub) ?? []);

    api.post<{ Body: { text: string } }>(
      '/notes',
      {
        schema: {
          body: {
            type: 'object',
            properties: { text: { type: 'string', minLength: 1, maxLength: 1000 } },
            required: ['text'],
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const own = notes.get(request.tessera!.sub) ?? [];
        const note = { id: own.length + 1, text: request.body.text };
        notes.set(request.tessera!.sub, [...own, note]);
        return reply.code(201).send(note);
      },
    );
  });
  return app;
}
