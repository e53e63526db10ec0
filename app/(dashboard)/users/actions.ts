'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { validatedAction } from '@/lib/api/action';
import { appDb } from '@/lib/db/queries/connection';
import { audit } from '@/lib/audit';
import { createUser, emailSchema, findUserById, passwordSchema, roleSchema, setUserDisabled, setUserRole } from '@/lib/auth/users';
import { createApiToken, revokeApiToken, tokenNameSchema } from '@/lib/auth/tokens';
import { uuidSchema } from '@/lib/domain';
import { ApiError, notFound } from '@/lib/api/errors';

export const createUserAction = validatedAction(
  'admin',
  z.object({ email: emailSchema, role: roleSchema, password: passwordSchema }),
  async (input, actor) => {
    const db = appDb();
    const user = await createUser(db, input);
    await audit(db, { actor: actor.name, action: 'user.create', target: user.email, details: { role: user.role } });
    revalidatePath('/users');
    return { message: `User ${user.email} created.` };
  },
);

export const setUserRoleAction = validatedAction('admin', z.object({ userId: uuidSchema, role: roleSchema }), async (input, actor) => {
  const db = appDb();
  const user = await setUserRole(db, input.userId, input.role);
  if (!user) throw notFound('user not found');
  await audit(db, { actor: actor.name, action: 'user.set_role', target: user.email, details: { role: input.role } });
  revalidatePath('/users');
  return { message: `${user.email} is now ${input.role}.` };
});

export const setUserDisabledAction = validatedAction(
  'admin',
  z.object({ userId: uuidSchema, disabled: z.enum(['true', 'false']).transform((v) => v === 'true') }),
  async (input, actor) => {
    const db = appDb();
    // Checked before the change: disabling bumps session_version, which would end the admin's own session.
    const target = await findUserById(db, input.userId);
    if (!target) throw notFound('user not found');
    if (target.email === actor.email && input.disabled) throw new ApiError('bad_request', 'you cannot disable your own account');
    const user = await setUserDisabled(db, input.userId, input.disabled);
    if (!user) throw notFound('user not found');
    await audit(db, { actor: actor.name, action: input.disabled ? 'user.disable' : 'user.enable', target: user.email });
    revalidatePath('/users');
    return { message: input.disabled ? `${user.email} disabled.` : `${user.email} enabled.` };
  },
);

export const createTokenAction = validatedAction('admin', z.object({ name: tokenNameSchema, role: roleSchema }), async (input, actor) => {
  const db = appDb();
  const token = await createApiToken(db, { ...input, createdBy: actor.name });
  await audit(db, { actor: actor.name, action: 'token.create', target: `token:${token.name}`, details: { token_id: token.id, role: token.role } });
  revalidatePath('/users');
  return { message: `Token ${token.name} created. Copy it now: it is not shown again.`, data: { secret: token.secret } };
});

export const revokeTokenAction = validatedAction('admin', z.object({ tokenId: uuidSchema }), async (input, actor) => {
  const db = appDb();
  const token = await revokeApiToken(db, input.tokenId);
  if (!token) throw notFound('token not found or already revoked');
  await audit(db, { actor: actor.name, action: 'token.revoke', target: `token:${token.name}`, details: { token_id: input.tokenId } });
  revalidatePath('/users');
  return { message: `Token ${token.name} revoked.` };
});
