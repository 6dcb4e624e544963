import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AiModel, Role, Tier } from '../entities';
import { viewerOf, type AppContext } from './context';
import { modelUsableBy } from '../services/access-rules';
import { ViewerDependent } from './viewer-dependent';
import { ModelEndpoint, ModelInput } from './model.types';

/** Backend settings are for admins; everyone else reads null (docs/backends.md, "Registering models"). */
const isAdmin = (ctx: AppContext): boolean => ctx.viewer?.user.role === Role.ADMIN;

@Resolver(() => AiModel)
export class ModelResolver {
  @Query(() => [AiModel], { description: 'Installed models with file hashes; the default first. Admins also see disabled ones.' })
  models(@Ctx() ctx: AppContext): Promise<AiModel[]> {
    return ctx.services.models.list(viewerOf(ctx).user);
  }

  @Mutation(() => AiModel, { description: 'Registers a model served by ONNX files, ComfyUI servers or an OpenAI-Images server (admins); usable by every worker at once.' })
  registerModel(@Arg('input', () => ModelInput, { description: 'The model.' }) input: ModelInput, @Ctx() ctx: AppContext): Promise<AiModel> {
    return ctx.services.models.register(input);
  }

  @Mutation(() => AiModel, { description: 'Replaces a model\'s settings (admins); the stored credential stays unless `input.credential` is given.' })
  updateModel(
    @Arg('id', () => ID, { description: 'Model id.' }) id: string,
    @Arg('input', () => ModelInput, { description: 'Its new settings.' }) input: ModelInput,
    @Ctx() ctx: AppContext,
  ): Promise<AiModel> {
    return ctx.services.models.update(id, input);
  }

  @Mutation(() => AiModel, { description: 'Enables or disables a model for new jobs (admins). The default cannot be disabled.' })
  setModelEnabled(
    @Arg('id', () => ID, { description: 'Model id.' }) id: string,
    @Arg('enabled', () => Boolean, { description: 'Usable in new jobs.' }) enabled: boolean,
    @Ctx() ctx: AppContext,
  ): Promise<AiModel> {
    return ctx.services.models.setEnabled(id, enabled);
  }

  @Mutation(() => AiModel, { description: 'Makes an enabled model the default for jobs that name none (admins).' })
  setDefaultModel(@Arg('id', () => ID, { description: 'Model id.' }) id: string, @Ctx() ctx: AppContext): Promise<AiModel> {
    return ctx.services.models.setDefault(id);
  }

  @Mutation(() => AiModel, { description: 'Sets the lowest tier allowed to use a model (admins).' })
  setModelMinTier(
    @Arg('id', () => ID, { description: 'Model id.' }) id: string,
    @Arg('minTier', () => Tier, { description: 'Lowest tier.' }) minTier: Tier,
    @Ctx() ctx: AppContext,
  ): Promise<AiModel> {
    return ctx.services.models.setMinTier(id, minTier);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { description: 'Whether you may use it: enabled and within your tier.' })
  usable(@Root() model: AiModel, @Ctx() ctx: AppContext): boolean {
    return !!ctx.viewer && modelUsableBy(model, ctx.viewer.user.tier);
  }

  @ViewerDependent()
  @FieldResolver(() => [ModelEndpoint], { nullable: true, description: 'Admins: the servers of its pool with their breaker health; null for everyone else and empty for ONNX models.' })
  endpoints(@Root() model: AiModel, @Ctx() ctx: AppContext): Promise<ModelEndpoint[]> | null {
    if (!isAdmin(ctx)) return null;
    return ctx.services.models.endpointsOf(model).then((list) => list.map(({ url, health }) => ({
      url,
      health: health && { ...health, lastCheckedAt: new Date(health.lastCheckedAt) },
    })));
  }

  @FieldResolver(() => Boolean, { description: 'True while every endpoint\'s breaker is open: new jobs for it wait in the queue until the backend answers again.' })
  waitingForBackend(@Root() model: AiModel, @Ctx() ctx: AppContext): Promise<boolean> {
    return ctx.services.models.isWaitingForBackend(model);
  }

  @ViewerDependent()
  @FieldResolver(() => Boolean, { nullable: true, description: 'Admins: whether a credential is stored (it is never returned); null for everyone else.' })
  hasCredential(@Root() model: AiModel, @Ctx() ctx: AppContext): boolean | null {
    return isAdmin(ctx) ? model.credentialCiphertext !== null : null;
  }

  @ViewerDependent()
  @FieldResolver(() => GraphQLJSONObject, { nullable: true, description: 'Admins: the ComfyUI workflow (COMFYUI); null otherwise.' })
  workflow(@Root() model: AiModel, @Ctx() ctx: AppContext): Record<string, unknown> | null {
    return isAdmin(ctx) ? model.workflow : null;
  }

  @ViewerDependent()
  @FieldResolver(() => String, { nullable: true, description: 'Admins: the `model` sent to the OpenAI-Images server (OPENAI_IMAGES); null otherwise.' })
  remoteModel(@Root() model: AiModel, @Ctx() ctx: AppContext): string | null {
    return isAdmin(ctx) ? model.remoteModel : null;
  }

  @ViewerDependent()
  @FieldResolver(() => String, { nullable: true, description: 'Admins: the folder in the models folder of an ONNX model when it is not named like the model; null otherwise.' })
  path(@Root() model: AiModel, @Ctx() ctx: AppContext): string | null {
    return isAdmin(ctx) ? model.path : null;
  }
}
