/** A hash router: `#/<page>/<param>`. No server routes, links that work, the back button for free. */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  page: string;
  param: string | undefined;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [page = "", param] = path.split("/").map(decodeURIComponent);
  return { page, param, query: new URLSearchParams(search) };
}

export const routeOf = (page: string, param?: string) => `#/${page}${param ? `/${encodeURIComponent(param)}` : ""}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => {
      setRoute(parseHash(location.hash));
      document.getElementById("main")?.focus();
    };
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}

export const go = (page: string, param?: string) => {
  location.hash = routeOf(page, param);
};
