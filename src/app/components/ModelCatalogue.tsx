// Settings: the pathology foundation models the converter knows (src/vit/catalogue.ts), with what a pathologist or
// an IT admin needs before downloading one: token width, size, tile and magnification, licence and gating, and
// whether this browser can run it. No weights ship: they are licensed and often gated.
import { ColumnHeads } from './Section.tsx';
import { browserFit, CATALOGUE, type CatalogueModel, catalogueTokenWidth } from '../../vit/catalogue.ts';
import { formatBytes } from '../../common/format-bytes.ts';

function fitVerdict(model: CatalogueModel): string {
  try {
    browserFit(model);
    return 'runs in the browser';
  } catch (e) {
    return (e as Error).message.replace(`${model.name}: `, '');
  }
}

export function ModelCatalogue() {
  return (
    <details className="catalogue">
      <summary>Pathology foundation models this app can convert ({CATALOGUE.length})</summary>
      <p className="muted small">
        Download the weights from the hub yourself (most need you to accept a licence), convert them with <code>npm run convert-weights -- --from &lt;folder&gt; --out &lt;folder&gt; --dtype f16</code> and pick the folder above. Every clinic of a
        federation must use a model of the same token width.
      </p>
      <table className="results" data-testid="model-catalogue">
        <ColumnHeads columns={['Model', 'Architecture', 'Token width', 'Parameters (fp16 file)', 'Tiles', 'Licence', 'In this browser']} />
        <tbody>
          {CATALOGUE.map((m) => (
            <tr key={m.name}>
              <th scope="row">
                {m.name}
                <br />
                <code className="small">{m.hub}</code>
              </th>
              <td>{m.architecture}</td>
              <td>{catalogueTokenWidth(m)}</td>
              <td>
                {(m.parameters / 1e6).toFixed(0)}M ({formatBytes(m.parameters * 2)})
              </td>
              <td>{m.tile}</td>
              <td>
                {m.licence}
                {m.gated ? ' (gated: accept on the hub)' : ''}
              </td>
              <td>{fitVerdict(m)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
