export function verifyVoucherSignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | null | undefined,
  toleranceSeconds?: number,
  nowSeconds?: number,
): boolean;
