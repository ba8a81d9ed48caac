// The objects as the control plane would make and change them: createJob
// fills the selector and template labels like the Job registry strategy,
// createPodForJob labels pods and sets the controller ownerReference like the
// Job controller, and a tiny scheduler and kubelet give pods realistic
// states. Every change goes through the state, so watches see it.

import { randomBytes, randomUUID } from 'node:crypto'
import {
  clone,
  CONTROLLER_UID_LABEL,
  JOB_COMPLETION_INDEX,
  JOB_NAME_LABEL,
  JOB_TRACKING_FINALIZER,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
  mergePatch,
  q,
  randSuffix
} from './resources.js'
import type { ApiState } from './state.js'
import type { EventSpec, FinishPodOptions, KubeObject, ResourceName } from './types.js'

export class ControlPlane {
  constructor(
    protected readonly state: ApiState,
    private readonly autoCreateNamespaces: boolean,
    /** The labels a Job's pods get: 'legacy' (job-name, controller-uid) before 1.27, both sets since (kubernetes PR 114930). */
    private readonly jobLabels: 'both' | 'legacy' = 'both'
  ) {}

  // -------------------------------------------------------------------------
  // State inspection

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.state.rv)
  }

  /** The compaction point: watches from an older resourceVersion get 410. */
  get compactedResourceVersion(): string {
    return String(this.state.compactedRv)
  }

  get(resource: ResourceName, namespace: string, name: string): KubeObject | undefined {
    return this.state.get(resource, namespace, name)
  }

  getJob(namespace: string, name: string): KubeObject | undefined {
    return this.get('jobs', namespace, name)
  }

  getPod(namespace: string, name: string): KubeObject | undefined {
    return this.get('pods', namespace, name)
  }

  /** Objects of a resource in a namespace ('' = all), sorted by namespace/name. */
  list(resource: ResourceName, namespace = ''): KubeObject[] {
    return this.state.list(resource, namespace)
  }

  /** Pods whose controller ownerReference is this Job. */
  podsOfJob(job: KubeObject): KubeObject[] {
    const uid = job.metadata?.uid ?? this.state.mustGet('jobs', job.metadata.namespace, job.metadata.name).metadata.uid
    return this.list('pods', job.metadata.namespace).filter((p) =>
      (p.metadata.ownerReferences ?? []).some((r: KubeObject) => r.controller && r.uid === uid)
    )
  }

  // -------------------------------------------------------------------------
  // Object helpers (what the control plane would do)

  createNamespace(name: string): KubeObject {
    const existing = this.state.objects.get(this.state.key('namespaces', '', name))
    if (existing) return clone(existing)
    const ns: KubeObject = {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name,
        uid: randomUUID(),
        creationTimestamp: this.state.timestamp(),
        labels: { 'kubernetes.io/metadata.name': name }
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' }
    }
    return this.state.commit('ADDED', 'namespaces', '', ns)
  }

  deleteNamespace(name: string): void {
    this.state.remove('namespaces', '', name)
  }

  /**
   * Creates a Job as the API server would store it: metadata filled
   * (uid, creationTimestamp, generation, resourceVersion), defaults applied,
   * and (unless spec.manualSelector) the selector and the four template labels
   * of the Job registry strategy. Status is cleared, as on a real create.
   */
  createJob(namespace: string, partial: KubeObject = {}): KubeObject {
    this.ensureNamespace(namespace)
    const job = clone(partial)
    job.kind = 'Job'
    job.apiVersion = 'batch/v1'
    const meta = (job.metadata = job.metadata ?? {})
    if (!meta.name) {
      if (!meta.generateName) throw new Error('createJob: metadata.name or metadata.generateName is required')
      meta.name = meta.generateName + randSuffix()
    }
    if (this.state.objects.has(this.state.key('jobs', namespace, meta.name))) {
      throw new Error(`jobs.batch ${q(meta.name)} already exists`)
    }
    meta.namespace = namespace
    meta.uid = randomUUID()
    meta.creationTimestamp = this.state.timestamp()
    meta.generation = 1
    const spec = (job.spec = job.spec ?? {})
    // SetDefaults_Job (pkg/apis/batch/v1/defaults.go)
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1
      spec.parallelism = 1
    }
    if (spec.parallelism === undefined) spec.parallelism = 1
    if (spec.backoffLimit === undefined) spec.backoffLimit = spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6
    if (spec.completionMode === undefined) spec.completionMode = 'NonIndexed'
    if (spec.suspend === undefined) spec.suspend = false
    if (spec.podReplacementPolicy === undefined) {
      spec.podReplacementPolicy = spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed'
    }
    const template = (spec.template = spec.template ?? {})
    template.metadata = template.metadata ?? {}
    template.spec = template.spec ?? {}
    if (!template.spec.containers || template.spec.containers.length === 0) {
      template.spec.containers = [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'true'] }]
    }
    if (!template.spec.restartPolicy) template.spec.restartPolicy = 'Never'
    applyPodSpecDefaults(template.spec)
    // The defaulter aliases the Job's labels to the template's label map when
    // the Job has none, so the Job ends up with the generated labels too.
    const templateHadLabels = template.metadata.labels !== undefined && template.metadata.labels !== null
    const jobHadLabels = meta.labels && Object.keys(meta.labels).length > 0
    if (!spec.manualSelector) {
      // generateSelector (pkg/registry/batch/job/strategy.go)
      const labels: Record<string, string> = (template.metadata.labels = template.metadata.labels ?? {})
      const legacy = this.jobLabels === 'legacy'
      for (const l of legacy ? [LEGACY_JOB_NAME_LABEL] : [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(l in labels)) labels[l] = meta.name
      const uidLabels = legacy ? [LEGACY_CONTROLLER_UID_LABEL] : [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]
      for (const l of uidLabels) if (!(l in labels)) labels[l] = meta.uid
      spec.selector = spec.selector ?? {}
      spec.selector.matchLabels = spec.selector.matchLabels ?? {}
      const selectorLabel = legacy ? LEGACY_CONTROLLER_UID_LABEL : CONTROLLER_UID_LABEL
      if (!(selectorLabel in spec.selector.matchLabels)) spec.selector.matchLabels[selectorLabel] = meta.uid
    }
    if (templateHadLabels && !jobHadLabels) meta.labels = { ...template.metadata.labels }
    job.status = {}
    return this.state.commit('ADDED', 'jobs', namespace, job)
  }

  /**
   * Creates a pod as the Job controller would: named `<job>-xxxxx`, with the
   * template's labels (incl. controller-uid and job-name), a controller
   * ownerReference to the Job, the job-tracking finalizer, the template spec
   * (merged with partial.spec) and status Pending. `index` sets the
   * completion index label and annotation (Indexed Jobs).
   */
  createPodForJob(job: KubeObject, partial: KubeObject = {}, opts: { index?: number } = {}): KubeObject {
    const ns = job.metadata?.namespace
    const stored = this.state.mustGet('jobs', ns, job.metadata?.name)
    const name = partial.metadata?.name ?? `${stored.metadata.name}-${randSuffix()}`
    const template = stored.spec.template ?? {}
    const labels: Record<string, string> = { ...template.metadata?.labels, ...partial.metadata?.labels }
    const annotations: Record<string, string> = { ...template.metadata?.annotations, ...partial.metadata?.annotations }
    if (opts.index !== undefined) {
      labels[JOB_COMPLETION_INDEX] = String(opts.index)
      annotations[JOB_COMPLETION_INDEX] = String(opts.index)
    }
    const pod: KubeObject = mergePatch(
      {
        metadata: {
          name,
          generateName: `${stored.metadata.name}-`,
          labels,
          ...(Object.keys(annotations).length ? { annotations } : {}),
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: stored.metadata.name,
              uid: stored.metadata.uid,
              controller: true,
              blockOwnerDeletion: true
            }
          ],
          finalizers: [JOB_TRACKING_FINALIZER]
        },
        spec: clone(template.spec ?? {})
      },
      { ...partial, metadata: { ...partial.metadata, labels: null, annotations: null } }
    ) as KubeObject
    pod.metadata.labels = labels
    if (Object.keys(annotations).length) pod.metadata.annotations = annotations
    return this.createPod(ns, pod)
  }

  /** Creates a pod (not owned by anything unless partial says so). Status starts Pending. */
  createPod(namespace: string, partial: KubeObject = {}): KubeObject {
    this.ensureNamespace(namespace)
    const pod = clone(partial)
    pod.kind = 'Pod'
    pod.apiVersion = 'v1'
    const meta = (pod.metadata = pod.metadata ?? {})
    if (!meta.name) {
      if (!meta.generateName) throw new Error('createPod: metadata.name or metadata.generateName is required')
      meta.name = meta.generateName + randSuffix()
    }
    if (this.state.objects.has(this.state.key('pods', namespace, meta.name))) throw new Error(`pods ${q(meta.name)} already exists`)
    meta.namespace = namespace
    meta.uid = randomUUID()
    meta.creationTimestamp = this.state.timestamp()
    const spec = (pod.spec = pod.spec ?? {})
    if (!spec.containers || spec.containers.length === 0) {
      spec.containers = [{ name: 'main', image: 'busybox:1.36' }]
    }
    if (!spec.restartPolicy) spec.restartPolicy = 'Always'
    applyPodSpecDefaults(spec)
    // Admission: service account and DefaultTolerationSeconds.
    if (!spec.serviceAccountName) spec.serviceAccountName = 'default'
    spec.serviceAccount = spec.serviceAccountName
    if (spec.priority === undefined) spec.priority = 0
    if (!spec.preemptionPolicy) spec.preemptionPolicy = 'PreemptLowerPriority'
    if (spec.enableServiceLinks === undefined) spec.enableServiceLinks = true
    if (!spec.tolerations) {
      spec.tolerations = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({
        key,
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300
      }))
    }
    pod.status = { phase: 'Pending', qosClass: 'BestEffort', ...pod.status }
    return this.state.commit('ADDED', 'pods', namespace, pod)
  }

  /** JSON-merge-patches a Job's status (status subresource: generation unchanged). */
  updateJobStatus(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.state.patch('jobs', namespace, name, { status: patch })
  }

  /** JSON-merge-patches a pod's status. */
  updatePodStatus(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.state.patch('pods', namespace, name, { status: patch })
  }

  /** JSON-merge-patches a whole Job (metadata/spec); a spec change bumps generation. */
  updateJob(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.state.patch('jobs', namespace, name, patch)
  }

  /** JSON-merge-patches a whole pod. */
  updatePod(namespace: string, name: string, patch: KubeObject): KubeObject {
    return this.state.patch('pods', namespace, name, patch)
  }

  /**
   * Deletes a Job. 'Background' (default, like kubectl and the TTL
   * controller's effect) then deletes its pods; 'Orphan' leaves them and
   * strips their ownerReference (the garbage collector's MODIFIED events);
   * 'Foreground' first marks the Job (deletionTimestamp + foregroundDeletion
   * finalizer), deletes the pods, then the Job.
   */
  deleteJob(namespace: string, name: string, opts: { propagationPolicy?: 'Background' | 'Orphan' | 'Foreground' } = {}): KubeObject {
    const job = this.state.mustGet('jobs', namespace, name)
    const pods = this.podsOfJob(job)
    const policy = opts.propagationPolicy ?? 'Background'
    if (policy === 'Foreground') {
      this.state.patch('jobs', namespace, name, {
        metadata: {
          deletionTimestamp: this.state.timestamp(),
          deletionGracePeriodSeconds: 0,
          finalizers: [...(job.metadata.finalizers ?? []), 'foregroundDeletion']
        }
      })
      for (const p of pods) this.state.remove('pods', namespace, p.metadata.name)
      return this.state.remove('jobs', namespace, name)
    }
    const deleted = this.state.remove('jobs', namespace, name)
    for (const p of pods) {
      if (policy === 'Background') this.state.remove('pods', namespace, p.metadata.name)
      else {
        const refs = (p.metadata.ownerReferences ?? []).filter((r: KubeObject) => r.uid !== job.metadata.uid)
        this.state.patch('pods', namespace, p.metadata.name, { metadata: { ownerReferences: refs.length ? refs : null } })
      }
    }
    return deleted
  }

  /**
   * Deletes a pod. `graceful: true` only marks it (deletionTimestamp,
   * deletionGracePeriodSeconds: a MODIFIED event), as the API server does
   * for a running pod; call again without it to remove it.
   */
  deletePod(namespace: string, name: string, opts: { graceful?: boolean; gracePeriodSeconds?: number } = {}): KubeObject {
    if (opts.graceful) {
      const grace = opts.gracePeriodSeconds ?? 30
      return this.state.patch('pods', namespace, name, {
        metadata: {
          deletionTimestamp: this.state.timestamp(new Date(this.state.now().getTime() + grace * 1000)),
          deletionGracePeriodSeconds: grace
        }
      })
    }
    return this.state.remove('pods', namespace, name)
  }

  /** Sets the log of a container (previous: the log of the last terminated instance). */
  setLog(namespace: string, pod: string, container: string, text: string, opts: { previous?: boolean } = {}): void {
    this.state.logs.set(this.state.logKey(namespace, pod, container, !!opts.previous), {
      text,
      time: this.state.timestamp(undefined, true)
    })
  }

  /** Appends to a container's log. */
  appendLog(namespace: string, pod: string, container: string, text: string, opts: { previous?: boolean } = {}): void {
    const k = this.state.logKey(namespace, pod, container, !!opts.previous)
    const cur = this.state.logs.get(k)
    this.state.logs.set(k, { text: (cur?.text ?? '') + text, time: cur?.time ?? this.state.timestamp(undefined, true) })
  }

  /**
   * Records a core/v1 Event about `involved` (a Job or Pod as returned by the
   * helpers, or any object with kind, apiVersion and metadata).
   */
  addEvent(involved: KubeObject, ev: EventSpec): KubeObject {
    const meta = involved.metadata ?? {}
    const namespace = meta.namespace ?? 'default'
    this.ensureNamespace(namespace)
    const kind: string = involved.kind ?? 'Pod'
    const component =
      ev.component ??
      (kind === 'Job' ? 'job-controller' : ev.reason === 'Scheduled' || ev.reason === 'FailedScheduling' ? 'default-scheduler' : 'kubelet')
    const ts = this.state.timestamp()
    const event: KubeObject = {
      kind: 'Event',
      apiVersion: 'v1',
      metadata: {
        name: ev.name ?? `${meta.name}.${randomBytes(8).toString('hex')}`,
        namespace,
        uid: randomUUID(),
        creationTimestamp: ts
      },
      involvedObject: {
        kind,
        namespace,
        name: meta.name,
        uid: meta.uid,
        apiVersion: involved.apiVersion ?? (kind === 'Job' ? 'batch/v1' : 'v1'),
        resourceVersion: meta.resourceVersion,
        ...(ev.fieldPath ? { fieldPath: ev.fieldPath } : {})
      },
      reason: ev.reason,
      message: ev.message,
      source: component === 'kubelet' ? { component, host: involved.spec?.nodeName ?? 'node-1' } : { component },
      firstTimestamp: ev.firstTimestamp ?? ts,
      lastTimestamp: ev.lastTimestamp ?? ts,
      count: ev.count ?? 1,
      type: ev.type ?? 'Normal',
      eventTime: null,
      reportingComponent: component,
      reportingInstance: component === 'kubelet' ? (involved.spec?.nodeName ?? 'node-1') : ''
    }
    return this.state.commit('ADDED', 'events', namespace, event)
  }

  // --- a tiny kubelet/scheduler, for realistic pod states ---------------------

  /** Binds the pod to a node (PodScheduled=True), then the kubelet reports containers waiting (ContainerCreating). */
  schedulePod(namespace: string, name: string, node = 'node-1'): KubeObject {
    const pod = this.state.mustGet('pods', namespace, name)
    const ts = this.state.timestamp()
    this.state.patch('pods', namespace, name, {
      spec: { nodeName: node },
      status: { conditions: upsertCondition(pod.status.conditions, { type: 'PodScheduled', status: 'True', lastTransitionTime: ts }) }
    })
    return this.setPodWaiting(namespace, name, 'ContainerCreating')
  }

  /**
   * Every container waits with `reason` (e.g. ImagePullBackOff, ErrImagePull,
   * CreateContainerConfigError); phase stays Pending.
   */
  setPodWaiting(namespace: string, name: string, reason: string, message?: string): KubeObject {
    const pod = this.state.mustGet('pods', namespace, name)
    const ts = this.state.timestamp()
    let conditions = pod.status.conditions ?? []
    for (const c of [
      { type: 'PodReadyToStartContainers', status: reason === 'ContainerCreating' ? 'False' : 'True' },
      { type: 'Initialized', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${containerNames(pod)}]` },
      {
        type: 'ContainersReady',
        status: 'False',
        reason: 'ContainersNotReady',
        message: `containers with unready status: [${containerNames(pod)}]`
      }
    ]) {
      conditions = upsertCondition(conditions, { ...c, lastTransitionTime: ts })
    }
    return this.updatePodStatus(namespace, name, {
      phase: 'Pending',
      conditions,
      hostIP: pod.status.hostIP ?? '10.0.0.2',
      startTime: pod.status.startTime ?? ts,
      containerStatuses: (pod.spec.containers ?? []).map((c: KubeObject) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        restartCount: 0,
        started: false,
        state: { waiting: { reason, ...(message ? { message } : {}) } },
        lastState: {}
      }))
    })
  }

  /** All containers running and ready; phase Running. */
  startPod(namespace: string, name: string): KubeObject {
    let pod = this.state.mustGet('pods', namespace, name)
    if (!pod.spec.nodeName) pod = this.schedulePod(namespace, name)
    const ts = this.state.timestamp()
    let conditions = pod.status.conditions ?? []
    for (const type of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']) {
      conditions = upsertCondition(conditions, { type, status: 'True', lastTransitionTime: ts })
    }
    return this.updatePodStatus(namespace, name, {
      phase: 'Running',
      conditions,
      podIP: '10.244.0.10',
      podIPs: [{ ip: '10.244.0.10' }],
      containerStatuses: (pod.spec.containers ?? []).map((c: KubeObject) => {
        const prev = (pod.status.containerStatuses ?? []).find((s: KubeObject) => s.name === c.name)
        return {
          name: c.name,
          image: c.image,
          imageID: `docker.io/library/${c.image}@sha256:${'0'.repeat(64)}`,
          containerID: `containerd://${randomBytes(32).toString('hex')}`,
          ready: true,
          restartCount: prev?.restartCount ?? 0,
          started: true,
          state: { running: { startedAt: ts } },
          lastState: prev?.lastState ?? {}
        }
      })
    })
  }

  /**
   * Containers terminate with the given exit code(s); phase Succeeded when
   * all are 0, else Failed (restartPolicy Never/OnFailure as a Job's pods).
   */
  finishPod(namespace: string, name: string, opts: FinishPodOptions = {}): KubeObject {
    const pod = this.state.mustGet('pods', namespace, name)
    const ts = this.state.timestamp()
    const code = (c: string): number => opts.exitCodes?.[c] ?? opts.exitCode ?? 0
    const names: string[] = (pod.spec.containers ?? []).map((c: KubeObject) => c.name)
    const ok = names.every((n) => code(n) === 0)
    let conditions = pod.status.conditions ?? []
    for (const type of ['Ready', 'ContainersReady']) {
      conditions = upsertCondition(conditions, { type, status: 'False', reason: 'PodCompleted', lastTransitionTime: ts })
    }
    conditions = upsertCondition(conditions, { type: 'PodReadyToStartContainers', status: 'False', lastTransitionTime: ts })
    return this.updatePodStatus(namespace, name, {
      phase: ok ? 'Succeeded' : 'Failed',
      conditions,
      containerStatuses: (pod.spec.containers ?? []).map((c: KubeObject) => {
        const prev = (pod.status.containerStatuses ?? []).find((s: KubeObject) => s.name === c.name) ?? {}
        const exitCode = code(c.name)
        return {
          name: c.name,
          image: c.image,
          imageID: prev.imageID ?? '',
          containerID: prev.containerID ?? `containerd://${randomBytes(32).toString('hex')}`,
          ready: false,
          restartCount: prev.restartCount ?? 0,
          started: false,
          state: {
            terminated: {
              exitCode,
              reason: opts.reason ?? (exitCode === 0 ? 'Completed' : 'Error'),
              ...(opts.message ? { message: opts.message } : {}),
              startedAt: prev.state?.running?.startedAt ?? ts,
              finishedAt: ts,
              containerID: prev.containerID ?? `containerd://${randomBytes(32).toString('hex')}`
            }
          },
          lastState: prev.lastState ?? {}
        }
      })
    })
  }

  /**
   * Ends a Job like the 1.31+ Job controller: first the interim condition
   * (SuccessCriteriaMet / FailureTarget), then Complete (with
   * completionTime) / Failed. Counters are left to the test.
   */
  finishJob(
    namespace: string,
    name: string,
    opts: { outcome: 'Complete' | 'Failed'; reason?: string; message?: string; interim?: boolean }
  ): KubeObject {
    const job = this.state.mustGet('jobs', namespace, name)
    const ts = this.state.timestamp()
    const complete = opts.outcome === 'Complete'
    const reason = opts.reason ?? (complete ? 'CompletionsReached' : 'BackoffLimitExceeded')
    const message = opts.message ?? (complete ? 'Reached expected number of succeeded pods' : 'Job has reached the specified backoff limit')
    let conditions = job.status.conditions ?? []
    const interim = {
      type: complete ? 'SuccessCriteriaMet' : 'FailureTarget',
      status: 'True',
      reason,
      message,
      lastProbeTime: ts,
      lastTransitionTime: ts
    }
    conditions = upsertCondition(conditions, interim)
    if (opts.interim !== false) this.updateJobStatus(namespace, name, { conditions })
    conditions = upsertCondition(conditions, { ...interim, type: opts.outcome })
    return this.updateJobStatus(namespace, name, {
      conditions,
      active: 0,
      ready: 0,
      terminating: 0,
      ...(complete ? { completionTime: ts } : {})
    })
  }

  protected ensureNamespace(ns: string): void {
    if (!this.state.objects.has(this.state.key('namespaces', '', ns))) {
      if (!this.autoCreateNamespaces) throw new Error(`namespaces ${q(ns)} not found`)
      this.createNamespace(ns)
    }
  }
}

function applyPodSpecDefaults(spec: KubeObject): void {
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst'
  if (!spec.securityContext) spec.securityContext = {}
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler'
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log'
    if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File'
    if (!c.imagePullPolicy) {
      const image: string = c.image ?? ''
      const tag = image.includes('@') ? 'digest' : (image.split('/').pop() ?? '').split(':')[1]
      c.imagePullPolicy = tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent'
    }
    if (!c.resources) c.resources = {}
  }
}

function upsertCondition(conditions: KubeObject[] | undefined, c: KubeObject): KubeObject[] {
  const list = [...(conditions ?? [])]
  const i = list.findIndex((x) => x.type === c.type)
  if (i >= 0) {
    const old = list[i]
    list[i] = { ...c, lastTransitionTime: old.status === c.status ? old.lastTransitionTime : c.lastTransitionTime }
  } else list.push({ lastProbeTime: null, ...c })
  return list
}

function containerNames(pod: KubeObject): string {
  return (pod.spec?.containers ?? []).map((c: KubeObject) => c.name).join(' ')
}
