import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor, UploadedMultipartFile } from '@nestjs/platform-fastify/multipart';
import { ApiAcceptedResponse, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminApiKeyGuard } from '../auth/admin-api-key.guard';
import { ModelRegistryService } from './model-registry.service';
import { AppConfig } from '../config/app-config';
import { RegisterModelDto } from './dto/register-model.dto';
import { TrainModelDto } from '../training/dto/train-model.dto';
import { VariantsQueryDto } from './dto/variants-query.dto';
import { toModelResponse } from './model-response';
import { MODEL_EXAMPLE, TRAINING_JOB_EXAMPLE, VARIANTS_EXAMPLE } from './models-admin.examples';
import { TrainingQueueService } from '../training/training-queue.service';

@ApiTags('admin')
@ApiSecurity('admin')
@UseGuards(AdminApiKeyGuard)
@Controller('v1/admin/models')
export class ModelsAdminController {
  constructor(
    private readonly registry: ModelRegistryService,
    private readonly trainingQueue: TrainingQueueService,
    private readonly config: AppConfig,
  ) {}

  /** Every registered version with its metrics and status, newest first. */
  @Get()
  @ApiOperation({ summary: 'List model versions', description: 'Every registered version with its metrics and status, newest first.' })
  @ApiOkResponse({ description: 'The registry', example: { models: [MODEL_EXAMPLE] } })
  async list() {
    return { models: (await this.registry.list()).map(toModelResponse) };
  }

  /** Queues a training run on the worker; poll GET /v1/admin/models/train/:jobId. */
  @Post('train')
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a training run on the worker', description: 'Poll GET /v1/admin/models/train/{jobId} for its outcome.' })
  @ApiAcceptedResponse({ description: 'Queued', example: { jobId: '1' } })
  async train(@Body() body: TrainModelDto) {
    const jobId = await this.trainingQueue.enqueue({ trigger: 'api', windowHours: body.windowHours, autoPromote: body.autoPromote });
    return { jobId };
  }

  @Get('train/:jobId')
  @ApiOperation({ summary: 'Status of a training run' })
  @ApiOkResponse({ description: 'The job, with the trained model id once completed', example: TRAINING_JOB_EXAMPLE })
  async trainingStatus(@Param('jobId') jobId: string) {
    const status = await this.trainingQueue.status(jobId);
    if (!status) throw new NotFoundException(`training job ${jobId} not found`);
    return status;
  }

  /**
   * Registers a model trained elsewhere (e.g. exported from PyTorch): multipart with the
   * ONNX file in `artifact` and its feature spec JSON in `featureSpec`. The file is
   * loaded in onnxruntime and run on a dummy batch first; anything invalid is a 400.
   */
  @Post()
  @ApiOperation({ summary: 'Register a model trained elsewhere', description: 'Multipart: the ONNX file in `artifact`, its feature spec JSON in `featureSpec`. Loaded and run on a dummy batch before it is stored.' })
  @ApiCreatedResponse({ description: 'The registered version', example: { ...MODEL_EXAMPLE, status: 'candidate', activatedAt: null } })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: RegisterModelDto })
  @UseInterceptors(FileInterceptor('artifact'))
  async register(@UploadedFile() file: UploadedMultipartFile | undefined, @Body() body: RegisterModelDto) {
    if (!file?.buffer?.length) throw new BadRequestException({ message: 'artifact file is required', field: 'artifact' });
    const created = await this.registry.register({
      artifact: file.buffer,
      featureSpec: JSON.parse(body.featureSpec),
      metrics: body.metrics ? { external: JSON.parse(body.metrics) } : {},
      trainingInfo: { trainer: 'external', filename: file.originalname },
    });
    return toModelResponse(body.activate ? await this.registry.activate(created.id) : created);
  }

  /**
   * The A/B read-out: per serving version (active, shadow for the MODEL_AB_SHARE users,
   * heuristic), impressions and the like/complete/share/skip rates among seen ones.
   */
  @Get('variants')
  @ApiOperation({ summary: 'A/B read-out per serving model', description: 'Impressions and like/complete/share/skip rates per model version over the last N hours.' })
  @ApiOkResponse({ description: 'Rates per variant', example: VARIANTS_EXAMPLE })
  async variants(@Query() query: VariantsQueryDto) {
    const hours = query.hours ?? 24;
    const models = await this.registry.list();
    return {
      hours,
      active: models.find((m) => m.status === 'active')?.id ?? null,
      shadow: models.find((m) => m.status === 'shadow')?.id ?? null,
      abShare: this.config.MODEL_AB_SHARE,
      variants: await this.registry.variants(new Date(Date.now() - hours * 3_600_000), this.config.TRAIN_LABEL_WINDOW_MINUTES),
    };
  }

  /** Re-activates the model that was active before the current one. */
  @Post('rollback')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-activate the previous model' })
  @ApiOkResponse({ description: 'The model now active', example: MODEL_EXAMPLE })
  async rollback() {
    return toModelResponse(await this.registry.rollback());
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model version' })
  @ApiOkResponse({ description: 'The version', example: MODEL_EXAMPLE })
  async get(@Param('id') id: string) {
    return toModelResponse(await this.registry.get(id));
  }

  @Post(':id/activate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Activate a model version', description: 'Every api instance hot-swaps to it within seconds.' })
  @ApiOkResponse({ description: 'The version, now active', example: MODEL_EXAMPLE })
  async activate(@Param('id') id: string) {
    return toModelResponse(await this.registry.activate(id));
  }

  /** Scores this model alongside the active one without serving it. */
  @Post(':id/shadow')
  @HttpCode(200)
  @ApiOperation({ summary: 'Shadow a model version', description: 'Scored alongside the active one without being served (or served to the MODEL_AB_SHARE users).' })
  @ApiOkResponse({ description: 'The version, now shadow', example: { ...MODEL_EXAMPLE, status: 'shadow' } })
  async shadow(@Param('id') id: string) {
    return toModelResponse(await this.registry.shadow(id));
  }

  @Delete(':id/shadow')
  @ApiOperation({ summary: 'Stop shadowing a model version' })
  @ApiOkResponse({ description: 'The version, back to candidate', example: { ...MODEL_EXAMPLE, status: 'candidate', activatedAt: null } })
  async unshadow(@Param('id') id: string) {
    return toModelResponse(await this.registry.unshadow(id));
  }
}
