/**
 * The keyword tree → ConfigModel: dispatches the top-level blocks, then checks what spans blocks (names,
 * references, duplicate VRIDs and services). The result is finally parsed by the zod schema as an
 * invariant; a failure there is reported at the offending object's location, never thrown.
 */
import { KEEPALIVED_KEYWORDS } from '../keepalivedKeywords.js';
import { ConfigModel, type SourceLocation } from '../model.js';
import { virtualServerKey, vrrpInstanceKey } from '../keys.js';
import type { ConfigNode } from '../parser.js';
import { type CompileContext, posOf } from './context.js';
import { compileGlobalDefs, defaultGlobalDefs, SYNC_ID_GIVEN } from './global.js';
import { compileVirtualServer, compileVirtualServerGroup } from './virtualServer.js';
import { compileTrackFile } from './trackFile.js';
import { compileTrackProcess } from './trackProcess.js';
import { compileSslBlock } from './ssl.js';
import { FILE_CHECKS_WITH_TRACK_FILE_WEIGHT } from './checkers.js';
import { type CompiledSyncGroup, compileVipBlock, compileVrrpInstance, compileVrrpScript, compileVrrpSyncGroup } from './vrrp.js';
import { compileRouteBlock, compileRuleBlock } from './routes.js';

export function compileConfig(tree: readonly ConfigNode[], source: string, ctx: CompileContext): ConfigModel | undefined {
  const model: ConfigModel = {
    source,
    global: defaultGlobalDefs(source),
    vrrpScripts: [],
    trackFiles: [],
    trackProcesses: [],
    vrrpSyncGroups: [],
    vrrpInstances: [],
    staticIpAddresses: [],
    staticRoutes: [],
    staticRules: [],
    virtualServerGroups: [],
    virtualServers: [],
  };
  // global_defs and virtual_server_groups first: instances and services take defaults from them wherever
  // they appear in the file.
  for (const node of tree) {
    if (node.keyword.text === 'global_defs') compileGlobalDefs(node, model.global, ctx);
    if (node.keyword.text === 'virtual_server_group') {
      const g = compileVirtualServerGroup(node, ctx);
      if (g) model.virtualServerGroups.push(g);
    }
  }
  const groups = new Map(model.virtualServerGroups.map((g) => [g.name, g]));
  const syncGroups: CompiledSyncGroup[] = [];
  for (const node of tree) {
    switch (node.keyword.text) {
      case 'global_defs':
      case 'virtual_server_group':
        break;
      case 'vrrp_script': {
        const s = compileVrrpScript(node, ctx);
        if (s) model.vrrpScripts.push(s);
        break;
      }
      case 'vrrp_track_process': {
        const t = compileTrackProcess(node, ctx);
        if (t) model.trackProcesses.push(t);
        break;
      }
      case 'track_file':
      case 'vrrp_track_file': {
        const f = compileTrackFile(node, ctx);
        if (f) model.trackFiles.push(f);
        break;
      }
      case 'vrrp_instance': {
        const i = compileVrrpInstance(node, model.global, ctx);
        if (i) model.vrrpInstances.push(i);
        break;
      }
      case 'vrrp_sync_group': {
        const g = compileVrrpSyncGroup(node, ctx);
        if (g) syncGroups.push(g);
        break;
      }
      case 'SSL':
        model.ssl = compileSslBlock(node, model.ssl, ctx);
        break;
      case 'static_ipaddress': {
        for (const address of compileVipBlock(node, ctx)) {
          // No instance to lend an interface: keepalived refuses a static address without one too.
          if (address.dev === undefined) ctx.sink.error(at(address.loc), `static_ipaddress ${address.address}: no 'dev' given`);
          else model.staticIpAddresses.push(address);
        }
        break;
      }
      case 'static_routes':
        model.staticRoutes.push(...compileRouteBlock(node, ctx));
        break;
      case 'static_rules':
        model.staticRules.push(...compileRuleBlock(node, ctx));
        break;
      case 'virtual_server': {
        const v = compileVirtualServer(node, groups, ctx);
        if (v) model.virtualServers.push(v);
        break;
      }
      default: {
        const k = node.keyword.text;
        ctx.sink.warning(posOf(node.keyword), KEEPALIVED_KEYWORDS.has(k)
          ? `keepalived block '${k}' is parsed but not acted on by tslvsd`
          : `unknown keyword '${k}'`);
      }
    }
  }
  crossCheck(model, syncGroups, ctx);
  return validate(model, ctx);
}

function at(loc: SourceLocation): { file: string; line: number } {
  return { file: loc.file, line: loc.line };
}

function uniqueNames<T extends { name: string; loc: SourceLocation }>(items: T[], what: string, ctx: CompileContext): T[] {
  const seen = new Map<string, T>();
  const out: T[] = [];
  for (const item of items) {
    const first = seen.get(item.name);
    if (first !== undefined) {
      ctx.sink.error(at(item.loc), `${what} '${item.name}' is already defined at ${first.loc.file}:${first.loc.line}`);
      continue;
    }
    seen.set(item.name, item);
    out.push(item);
  }
  return out;
}

function crossCheck(model: ConfigModel, syncGroups: CompiledSyncGroup[], ctx: CompileContext): void {
  model.vrrpScripts = uniqueNames(model.vrrpScripts, 'vrrp_script', ctx);
  model.vrrpInstances = uniqueNames(model.vrrpInstances, 'vrrp_instance', ctx);
  model.trackFiles = uniqueNames(model.trackFiles, 'track_file', ctx);
  const fileNames = new Set(model.trackFiles.map((f) => f.name));
  model.trackProcesses = uniqueNames(model.trackProcesses, 'vrrp_track_process', ctx);
  const processNames = new Set(model.trackProcesses.map((t) => t.name));
  model.virtualServerGroups = uniqueNames(model.virtualServerGroups, 'virtual_server_group', ctx);
  const scriptNames = new Set(model.vrrpScripts.map((s) => s.name));
  const instances = new Map(model.vrrpInstances.map((i) => [i.name, i]));

  for (const owner of [...model.vrrpInstances, ...syncGroups.map((g) => g.group)]) {
    owner.trackScripts = owner.trackScripts.filter((t) => {
      if (scriptNames.has(t.name)) return true;
      ctx.sink.warning(at(t.loc), `track_script '${t.name}': no vrrp_script of that name; ignored`);
      return false;
    });
    owner.trackFiles = owner.trackFiles.filter((t) => {
      if (fileNames.has(t.name)) return true;
      ctx.sink.warning(at(t.loc), `track_file '${t.name}': no track_file block of that name; ignored`);
      return false;
    });
    owner.trackProcesses = owner.trackProcesses.filter((t) => {
      if (processNames.has(t.name)) return true;
      ctx.sink.warning(at(t.loc), `track_process '${t.name}': no vrrp_track_process of that name; ignored`);
      return false;
    });
  }

  const vrids = new Map<string, string>();
  for (const i of model.vrrpInstances) {
    // Unicast instances may share a VRID on one interface (they talk to different peers).
    if (i.unicastPeers.length > 0) continue;
    const key = vrrpInstanceKey(i);
    const other = vrids.get(key);
    if (other !== undefined) {
      ctx.sink.error(at(i.loc), `vrrp_instance ${i.name}: virtual_router_id ${i.virtualRouterId} is already used by ${other} on the same interface`);
    } else vrids.set(key, i.name);
  }

  const seenGroups = new Set<string>();
  for (const { group, memberTokens } of syncGroups) {
    if (seenGroups.has(group.name)) {
      ctx.sink.error(at(group.loc), `vrrp_sync_group '${group.name}' is already defined`);
      continue;
    }
    seenGroups.add(group.name);
    const members: string[] = [];
    group.group.forEach((name, idx) => {
      const instance = instances.get(name);
      const token = memberTokens[idx];
      if (instance === undefined) {
        ctx.sink.warning(posOf(token), `vrrp_sync_group ${group.name}: no vrrp_instance '${name}'; ignored`);
      } else if (instance.syncGroup !== undefined) {
        ctx.sink.error(posOf(token), `vrrp_instance '${name}' is already in vrrp_sync_group ${instance.syncGroup}`);
      } else {
        instance.syncGroup = group.name;
        members.push(name);
      }
    });
    group.group = members;
    model.vrrpSyncGroups.push(group);
  }

  const filesByName = new Map(model.trackFiles.map((f) => [f.name, f]));
  for (const vs of model.virtualServers) {
    for (const rs of vs.realServers) {
      rs.checkers = rs.checkers.filter((c) => {
        if (c.type !== 'FILE_CHECK') return true;
        const file = filesByName.get(c.trackFile);
        if (!file) {
          // keepalived: "track_file NAME not found" and the FILE_CHECK is ignored.
          ctx.sink.warning(at(c.loc), `FILE_CHECK: no track_file '${c.trackFile}'; ignored`);
          return false;
        }
        c.path = file.path;
        if (FILE_CHECKS_WITH_TRACK_FILE_WEIGHT.has(c)) {
          c.weight = file.weight;
          c.weightReverse = file.weightReverse;
        }
        return true;
      });
    }
  }

  const sync = model.global.lvsSyncDaemon;
  if (sync?.vrrpInstance !== undefined) {
    // keepalived: "Unable to find vrrp instance … for lvs_syncd" (it then drops the sync daemon; refused here).
    const instance = instances.get(sync.vrrpInstance);
    if (instance === undefined) {
      ctx.sink.error(at(sync.loc), `lvs_sync_daemon: no vrrp_instance '${sync.vrrpInstance}'`);
      delete model.global.lvsSyncDaemon;
    } else if (!SYNC_ID_GIVEN.has(sync)) sync.syncId = instance.virtualRouterId;
  }

  const vsGroups = new Map(model.virtualServerGroups.map((g) => [g.name, g]));
  const services = new Map<string, SourceLocation>();
  for (const vs of model.virtualServers) {
    if (vs.group !== undefined && !vsGroups.has(vs.group)) {
      ctx.sink.error(at(vs.loc), `virtual_server group '${vs.group}': no virtual_server_group of that name`);
    }
    const fwmarkOnlyGroup = vs.group !== undefined && !(vsGroups.get(vs.group)?.entries.some((e) => e.kind === 'address') ?? true);
    // The virtual server's one identity (keys.ts); a group of fwmarks only is the same kernel services
    // whatever its protocol, so there the protocol does not tell two apart.
    const key = fwmarkOnlyGroup ? `group:${vs.group}` : virtualServerKey(vs);
    const first = services.get(key);
    if (first !== undefined) {
      ctx.sink.error(at(vs.loc), `virtual_server ${key} is already defined at ${first.file}:${first.line}`);
    } else services.set(key, vs.loc);
  }
}

/** Last line of defence: anything the schema rejects is reported at the nearest object's `loc`. */
function validate(model: ConfigModel, ctx: CompileContext): ConfigModel | undefined {
  // jitless: zod would otherwise generate (new Function) and compile a fast path for each object schema
  // on its first parse; the model is parsed once per compile, so that code would run once and stay resident.
  const result = ConfigModel.safeParse(model, { jitless: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    let node: unknown = model;
    let loc: SourceLocation = { file: model.source, line: 1 };
    for (const key of issue.path) {
      if (node === null || typeof node !== 'object') break;
      node = (node as Record<PropertyKey, unknown>)[key as PropertyKey];
      const l = (node as { loc?: SourceLocation } | undefined)?.loc;
      if (l !== undefined && typeof l === 'object') loc = l;
    }
    ctx.sink.error(at(loc), `invalid ${issue.path.join('.')}: ${issue.message}`);
  }
  return undefined;
}
