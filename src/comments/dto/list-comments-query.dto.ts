import { PageCursor, PageLimit } from '../../common/page-query';

export class ListCommentsQueryDto {
  @PageLimit('comments')
  limit: number = 20;

  @PageCursor()
  cursor?: string;
}
