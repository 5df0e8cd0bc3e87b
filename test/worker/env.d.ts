// Types for the bindings and the main module seen from inside workerd tests.
import type { Env as WardenEnv } from "../../src/env.ts";

declare global {
  namespace Cloudflare {
    interface Env extends WardenEnv {}
    interface GlobalProps {
      mainModule: typeof import("../../src/index.ts");
      durableNamespaces: "AccountObject" | "EmailIndexObject" | "ClientRegistryObject" | "SigningKeysObject";
    }
  }
}

export {};
