// Links in notifications point at lotgate's pages under `publicUrl` (config.yaml). One place
// builds them, so the paths stay consistent across notifications, digests and messages.

export interface Links {
  lot(materialId: string, lotNumber: string): string;
  submission(id: number): string;
  partner(id: string): string;
  board(): string;
}

export function links(publicUrl: string): Links {
  const base = publicUrl.replace(/\/+$/, '');
  const e = encodeURIComponent;
  return {
    lot: (materialId, lotNumber) => `${base}/lots/${e(materialId)}/${e(lotNumber)}`,
    submission: (id) => `${base}/submissions/${id}`,
    partner: (id) => `${base}/partners/${e(id)}`,
    board: () => `${base}/lots`,
  };
}

/** Why `publicUrl` cannot make links (notifications then go out without them), or null. */
export function publicUrlProblem(publicUrl: string): string | null {
  try {
    const u = new URL(publicUrl);
    if (u.protocol === 'https:' || u.protocol === 'http:') return null;
  } catch {
    // reported below
  }
  return `publicUrl ${JSON.stringify(publicUrl)} is not an http(s) URL; notifications go out without links until it is fixed in config.yaml`;
}

/** `lot:<materialId>/<lotNumber>` (the audit subject of a lot) → its parts. */
export function parseLotSubject(subject: string | null): { materialId: string; lotNumber: string } | null {
  const m = subject ? /^lot:([^/]+)\/(.+)$/.exec(subject) : null;
  return m ? { materialId: m[1], lotNumber: m[2] } : null;
}

/** `submission:<id>` (an audit actor or subject) → the id. */
export function parseSubmissionRef(s: string | null): number | null {
  const m = s ? /^submission:(\d+)$/.exec(s) : null;
  return m ? Number(m[1]) : null;
}
